using System.Globalization;
using ControlPlane.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ControlPlane.Cli.Security;

/// <summary>Pure views of token and audit responses. Tokens' secrets are not in these messages at all.</summary>
internal static class SecurityRendering
{
    public static string RoleName(Role role) => role switch
    {
        Role.Viewer => "viewer",
        Role.Operator => "operator",
        Role.Admin => "admin",
        _ => "none",
    };

    public static string Describe(TokenInfo info) =>
        $"role {RoleName(info.Role)}, tenants {Tenants(info.Tenants)}, expires {Time(info.ExpiresAt, "never")}";

    public static string WhoAmI(WhoAmIResponse me) =>
        $"{me.Principal} ({me.Kind}{(me.TokenId.Length > 0 ? " " + me.TokenId : "")}): role {RoleName(me.Role)}, tenants {Tenants(me.Tenants)}";

    public static IRenderable Tokens(ListTokensResponse response)
    {
        if (response.Tokens.Count == 0) return new Markup("no tokens");
        var table = new Table().AddColumns("ID", "NAME", "ROLE", "TENANTS", "CREATED", "BY", "EXPIRES", "REVOKED");
        foreach (var t in response.Tokens)
        {
            table.AddRow(Cells(t.Id, t.Name, RoleName(t.Role), Tenants(t.Tenants), Time(t.CreatedAt, "-"), t.CreatedBy,
                Time(t.ExpiresAt, "never"), Time(t.RevokedAt, "-")));
        }
        return table;
    }

    public static IRenderable Audit(ListAuditEventsResponse response)
    {
        if (response.Events.Count == 0) return new Markup("no audit events match");
        var table = new Table().AddColumns("TIME", "PRINCIPAL", "SOURCE", "RPC", "TARGET", "OUTCOME", "STATUS", "DETAIL", "OPERATION");
        foreach (var e in response.Events)
        {
            table.AddRow(Cells(Time(e.At, "-"), e.Principal, e.Source, e.Rpc.Replace("controlplane.v1.", "", StringComparison.Ordinal),
                e.Target, e.Outcome, e.Status, e.Detail, e.OperationId));
        }
        return table;
    }

    private static IRenderable[] Cells(params string[] values) => values.Select(v => (IRenderable)new Text(v)).ToArray();

    private static string Tenants(IEnumerable<string> tenants)
    {
        var list = string.Join(",", tenants);
        return list.Length == 0 ? "all" : list;
    }

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? at, string none) =>
        at is null ? none : at.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
