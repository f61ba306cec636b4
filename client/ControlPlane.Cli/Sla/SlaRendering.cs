using System.Globalization;
using System.Text;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Sla;

/// <summary>Pure text view of an SLA report: the figures, then one line per outage and per failover.</summary>
internal static class SlaRendering
{
    public static string Report(SlaReport r, string period)
    {
        var b = new StringBuilder();
        var availability = r.HasAvailabilityPercent ? $"{r.AvailabilityPercent:0.000} %" : "not measured yet";
        b.Append(CultureInfo.InvariantCulture, $"tier {r.Tier}, last {period} ({Time(r.From)} to {Time(r.To)})\n");
        b.Append(CultureInfo.InvariantCulture, $"  availability  {availability} (target {r.TargetPercent:0.###} %){(r.MeetsTarget ? "" : "  BELOW TARGET")}\n");
        b.Append(CultureInfo.InvariantCulture, $"  observed      {Seconds(r.ObservedSeconds)}, unobserved {Seconds(r.UnobservedSeconds)}\n");
        b.Append(CultureInfo.InvariantCulture, $"  downtime      {Seconds(r.DowntimeSeconds)} in {r.Outages.Count} outage(s)\n");
        var ratio = r.HasBudgetRemainingRatio ? $" ({r.BudgetRemainingRatio * 100:0.#} % left)" : "";
        b.Append(CultureInfo.InvariantCulture, $"  error budget  {Seconds(r.BudgetSeconds)}, remaining {Seconds(r.BudgetRemainingSeconds)}{ratio}\n");
        b.Append(r.HasWorstArchiveRpoSeconds
            ? string.Create(CultureInfo.InvariantCulture, $"  archive RPO   worst {r.WorstArchiveRpoSeconds:0.0} s\n")
            : "  archive RPO   not measured (the tier does not archive WAL)\n");
        b.Append(r.WritableNow ? "  now           writable\n" : $"  now           NOT WRITABLE: {r.LastError}\n");
        if (r.Outages.Count > 0)
        {
            b.Append("\noutages:\n");
            foreach (var o in r.Outages)
            {
                var end = o.End is null ? "ongoing" : Time(o.End);
                var moved = o.PrimaryAfter.Length > 0 && o.PrimaryAfter != o.PrimaryBefore ? $", {o.PrimaryBefore} -> {o.PrimaryAfter} (term {o.TermAfter})" : "";
                b.Append(CultureInfo.InvariantCulture,
                    $"  {Time(o.Start)} to {end}  {FleetFormat.Duration(o.Duration.ToTimeSpan())}{moved}{(o.Interrupted ? " [partly unobserved]" : "")}\n    {o.Reason}\n");
            }
        }
        if (r.Failovers.Count > 0)
        {
            b.Append("\nfailovers and switchovers:\n");
            foreach (var f in r.Failovers)
            {
                var rto = f.WriteOutage is null ? "no failed write observed" : $"RTO {FleetFormat.Duration(f.WriteOutage.ToTimeSpan())}";
                b.Append(CultureInfo.InvariantCulture, $"  {Time(f.At)}  {f.Kind} term {f.Term}: {f.OldPrimary} -> {f.NewPrimary} ({f.Outcome}), {rto}\n");
            }
        }
        return b.ToString();
    }

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? at) =>
        at is null ? "-" : at.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Seconds(double seconds) =>
        seconds < 120 ? string.Create(CultureInfo.InvariantCulture, $"{seconds:0.0} s") : FleetFormat.Duration(TimeSpan.FromSeconds(seconds));
}
