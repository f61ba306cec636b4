using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Xunit;

namespace ControlPlane.IntegrationTests.Security;

/// <summary>
/// Every RPC in the service descriptors × caller (no token; viewer, operator, admin; each unscoped and limited to a
/// tenant, asking for that tenant or another) against the real silo. An RPC without a declared permission fails here
/// (and stops the silo from starting).
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class PermissionMatrixTests(SiloFixture fixture)
{
    private const string InScope = "acme";
    private const string OutOfScope = "globex";

    // What the issue says each kind of RPC needs; checked when the RPC exists, so a typo in a declaration shows.
    private static readonly Dictionary<string, Role> Expected = new(StringComparer.Ordinal)
    {
        ["FleetService/ListTiers"] = Role.Viewer,
        ["FleetService/GetTier"] = Role.Viewer,
        ["FleetService/GetReplica"] = Role.Viewer,
        ["FleetService/WatchTier"] = Role.Viewer,
        ["FleetService/WatchFleet"] = Role.Viewer,
        ["SecurityService/CreateToken"] = Role.Admin,
        ["SecurityService/ListTokens"] = Role.Admin,
        ["SecurityService/RevokeToken"] = Role.Admin,
        ["SecurityService/ListAuditEvents"] = Role.Admin,
        ["SecurityService/WhoAmI"] = Role.Viewer,
        ["FailoverService/Switchover"] = Role.Operator,
        ["FailoverService/Failover"] = Role.Operator,
        ["FailoverService/PauseTier"] = Role.Operator,
        ["FailoverService/ResumeTier"] = Role.Operator,
        ["FailoverService/GetRouting"] = Role.Viewer,
        ["FailoverService/WatchRouting"] = Role.Viewer,
        ["FailoverService/ListDecisions"] = Role.Viewer,
        ["FailoverService/GetOperation"] = Role.Viewer,
        ["FailoverService/WatchOperation"] = Role.Viewer,
        ["BackupService/StartBackup"] = Role.Operator,
        ["BackupService/StartDrill"] = Role.Operator,
        ["BackupService/Restore"] = Role.Admin,
        ["BackupService/DropRestore"] = Role.Admin,
        ["BackupService/SetBackupPolicy"] = Role.Admin,
        ["BackupService/ApplyRetention"] = Role.Admin,
        ["BackupService/ImportTenant"] = Role.Admin,
        ["BackupService/ListBackups"] = Role.Viewer,
        ["BackupService/GetArchiveStatus"] = Role.Viewer,
        ["CatalogService/GetCatalogStatus"] = Role.Viewer,
        ["CatalogService/BackupCatalog"] = Role.Operator,
    };

    private sealed record Caller(string Label, string? Token, Role Role, bool Scoped, bool AsksInScope);

    [Fact]
    public void Every_rpc_declares_a_permission_with_a_role()
    {
        var missing = DynamicRpc.AllMethods()
            .Where(m => m.GetOptions()?.HasExtension(PermissionsExtensions.Permission) != true
                        || m.GetOptions().GetExtension(PermissionsExtensions.Permission).Role == Role.Unspecified)
            .Select(m => m.FullName)
            .ToList();
        Assert.True(missing.Count == 0, "RPCs without a declared permission: " + string.Join(", ", missing));
        var methods = DynamicRpc.AllMethods();
        Assert.True(methods.Count >= 10, $"only {methods.Count} RPCs found in the descriptors");
        foreach (var method in methods)
        {
            var key = $"{method.Service.Name}/{method.Name}";
            if (Expected.TryGetValue(key, out var role)) Assert.True(role == Declared(method).Role, $"{key} declares {Declared(method).Role}, expected {role}");
        }
    }

    [Fact]
    public async Task Every_rpc_allows_exactly_the_declared_roles_and_tenant_scopes()
    {
        var callers = new List<Caller> { new("no token", null, Role.Unspecified, false, false) };
        foreach (var role in new[] { Role.Viewer, Role.Operator, Role.Admin })
        {
            var name = role.ToString().ToLowerInvariant();
            var unscoped = await SecurityTokens.CreateAsync(fixture, $"matrix-{name}", role);
            var scoped = await SecurityTokens.CreateAsync(fixture, $"matrix-{name}-acme", role, [InScope]);
            callers.Add(new($"{name}", unscoped.Token, role, false, true));
            callers.Add(new($"{name} scoped, in scope", scoped.Token, role, true, true));
            callers.Add(new($"{name} scoped, out of scope", scoped.Token, role, true, false));
        }

        var failures = new List<string>();
        var calls = 0;
        foreach (var method in DynamicRpc.AllMethods())
        {
            var permission = Declared(method);
            foreach (var caller in callers)
            {
                var request = DynamicRpc.Empty(method);
                if (permission.Scope == Scope.Tenant) SetTenant(method, request, permission.TenantField, caller.AsksInScope ? InScope : OutOfScope);
                var status = await DynamicRpc.CallAsync(fixture.Invoker(caller.Token), method, request, TimeSpan.FromSeconds(3));
                calls++;
                var allowed = caller.Token is not null
                    && caller.Role >= permission.Role
                    && (!caller.Scoped || permission.Scope == Scope.Caller || (permission.Scope == Scope.Tenant && caller.AsksInScope));
                var refused = status.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied;
                if (allowed && refused)
                    failures.Add($"{method.FullName} as {caller.Label}: expected allowed, got {status.StatusCode}: {status.Detail}");
                if (!allowed)
                {
                    var expected = caller.Token is null ? StatusCode.Unauthenticated : StatusCode.PermissionDenied;
                    if (status.StatusCode != expected || string.IsNullOrWhiteSpace(status.Detail))
                        failures.Add($"{method.FullName} as {caller.Label}: expected {expected} with a message, got {status.StatusCode}: {status.Detail}");
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {calls} calls wrong:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
    }

    [Fact]
    public async Task A_denial_is_audited_with_the_principal_rpc_and_outcome()
    {
        var viewer = await SecurityTokens.CreateAsync(fixture, "matrix-audited", Role.Viewer);
        var client = new SecurityService.SecurityServiceClient(fixture.Invoker(viewer.Token));
        var denied = await Assert.ThrowsAsync<RpcException>(() => client.ListTokensAsync(new ListTokensRequest()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("needs role admin", denied.Status.Detail, StringComparison.Ordinal);

        var audit = await SecurityTokens.Admin(fixture).ListAuditEventsAsync(new ListAuditEventsRequest
        {
            Principal = $"matrix-audited (token {viewer.Info.Id})",
            Outcome = "denied",
        });
        var entry = Assert.Single(audit.Events);
        Assert.Equal("controlplane.v1.SecurityService/ListTokens", entry.Rpc);
        Assert.Equal("PERMISSION_DENIED", entry.Status);
        Assert.NotEmpty(entry.OperationId);
        Assert.NotEmpty(entry.Source);
    }

    private static Permission Declared(MethodDescriptor method) => method.GetOptions().GetExtension(PermissionsExtensions.Permission);

    private static void SetTenant(MethodDescriptor method, Google.Protobuf.IMessage request, string field, string tenant)
    {
        var descriptor = method.InputType.FindFieldByName(field);
        if (descriptor.IsRepeated) ((System.Collections.IList)descriptor.Accessor.GetValue(request)).Add(tenant);
        else descriptor.Accessor.SetValue(request, tenant);
    }
}
