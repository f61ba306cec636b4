using System.Globalization;
using ControlPlane.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ControlPlane.Cli.Pools;

/// <summary>Pure views of pool responses.</summary>
internal static class PoolRendering
{
    public static IRenderable Budget(PoolBudget b)
    {
        var rows = new Rows(
            new Text($"tier {b.Tier}: capacity {b.Capacity} of max_connections {b.MaxConnections} on {(b.Primary.Length == 0 ? "(no primary sampled)" : b.Primary)}, "
                     + $"granted {b.Granted}, unmanaged {b.Unmanaged}, read-only capacity {b.ReadOnlyCapacity}"),
            Tenants(b),
            b.Alerts.Count == 0 ? new Text("no alerts") : new Rows(b.Alerts.Select(a => new Markup("[red]ALERT[/] " + Markup.Escape(a)))));
        return rows;
    }

    private static Table Tenants(PoolBudget b)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("TENANT", "PLAN (W/MIN/MAX)", "LEASES", "GRANTED", "CONNECTIONS", "IN USE", "IDLE", "WAITING", "OPEN WAIT MAX/MEAN", "OVERRUNS", "LEAK SUSPECTS");
        foreach (var t in b.Tenants)
        {
            table.AddRow(t.Tenant, $"{t.Weight}/{t.Min}/{t.Max}", N(t.Leases), N(t.Granted), N(t.Connections), N(t.InUse), N(t.Idle), N(t.Waiting),
                Wait(t.OpenWaitSecondsMax, t.OpenWaitSecondsMean), t.Overruns > 0 ? $"[red]{t.Overruns}[/]" : "0", t.LeakSuspects > 0 ? $"[red]{t.LeakSuspects}[/]" : "0");
        }
        return table;
    }

    /// <summary>Milliseconds below ten seconds: a wait worth a look is tens to thousands of them.</summary>
    private static string Wait(double max, double mean) =>
        max <= 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{max * 1000:0} / {mean * 1000:0} ms");

    public static IRenderable Leases(ListLeasesResponse response)
    {
        if (response.Leases.Count == 0) return new Text($"no live leases on tier {response.Tier}");
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("LEASE", "TENANT", "SERVICE", "ACCESS", "REQUESTED", "GRANTED", "CONNECTIONS", "IDLE IN TX", "EXPIRES (UTC)");
        foreach (var l in response.Leases) table.AddRow(LeaseCells(l));
        return table;
    }

    public static string LeaseLine(Lease l) =>
        $"lease {l.LeaseId}: {l.Tenant}/{l.Service} on {l.Tier} {Access(l.Access)}, granted {l.Granted} of {l.Requested}, "
        + $"{State(l.State)}, ttl {l.TtlSeconds}s, expires {Time(l.ExpiresAt)}, tag {l.Tag}";

    private static string[] LeaseCells(Lease l) =>
    [
        l.LeaseId, l.Tenant, l.Service, Access(l.Access), N(l.Requested), N(l.Granted), N(l.Connections),
        l.IdleInTransaction == 0 ? "0" : $"{l.IdleInTransaction} ({l.LongestIdleInTransactionSeconds:0}s)", Time(l.ExpiresAt),
    ];

    private static string Access(LeaseAccess a) => a == LeaseAccess.ReadOnly ? "read-only" : "read-write";

    private static string State(LeaseState s) => s switch
    {
        LeaseState.Active => "active",
        LeaseState.Released => "released",
        LeaseState.Expired => "expired",
        _ => "unknown",
    };

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? t) =>
        t is null ? "-" : t.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
