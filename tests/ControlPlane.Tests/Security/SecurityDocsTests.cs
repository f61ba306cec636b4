using ControlPlane.Silo.Security;
using Xunit;

namespace ControlPlane.Tests.Security;

/// <summary>docs/security.md's roles table must name every RPC with its declared role, so the doc cannot drift.</summary>
public sealed class SecurityDocsTests
{
    [Fact]
    public void The_roles_table_lists_every_rpc_with_its_declared_role()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "security.md"));
        var missing = PermissionTable.ForControlPlane().All
            .Where(p => !doc.Contains($"| `{p.FullName.Replace("controlplane.v1.", "", StringComparison.Ordinal)}` | {Roles.Name(p.Role)} |", StringComparison.Ordinal))
            .Select(p => $"{p.FullName} ({Roles.Name(p.Role)})")
            .ToList();
        Assert.True(missing.Count == 0, "docs/security.md lacks rows for: " + string.Join(", ", missing));
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ControlPlane.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("ControlPlane.sln not found above " + AppContext.BaseDirectory);
    }
}
