using System.Globalization;
using System.Text;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Upgrades;

/// <summary>Plain-text views of rehearsals and targets.</summary>
internal static class UpgradeRendering
{
    public static UpgradeMethod Method(string name) => name switch
    {
        "logical" => UpgradeMethod.Logical,
        "dump" => UpgradeMethod.Dump,
        "pg_upgrade" => UpgradeMethod.PgUpgrade,
        _ => UpgradeMethod.Unspecified,
    };

    public static string Method(UpgradeMethod method) => method switch
    {
        UpgradeMethod.Logical => "logical",
        UpgradeMethod.Dump => "dump",
        UpgradeMethod.PgUpgrade => "pg_upgrade",
        _ => "unspecified",
    };

    public static string State(UpgradeRehearsalState state) => state.ToString().ToLowerInvariant();

    public static string Phase(UpgradePhase phase) =>
        string.Create(CultureInfo.InvariantCulture, $"  {phase.Name,-13} {phase.Duration.ToTimeSpan().TotalSeconds,7:0.00}s  {phase.Detail}");

    public static string Detail(UpgradeRehearsal r, bool withPhases)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"rehearsal {r.Id} of {r.Tier}: {Method(r.Method)} {r.SourceVersion} -> {r.TargetVersion} from backup {r.BackupId}: {State(r.State)}");
        if (r.Duration is { } d) b.Append(CultureInfo.InvariantCulture, $" in {d.ToTimeSpan().TotalSeconds:0.0}s");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"  installations: {r.Installations}");
        if (withPhases) foreach (var phase in r.Phases) b.AppendLine(Phase(phase));
        if (r.CutoverWriteGap is { } gap)
            b.AppendLine(CultureInfo.InvariantCulture, $"  write gap: {gap.ToTimeSpan().TotalMilliseconds:0} ms{(r.HasMaxLagBytes ? $", largest replication lag {r.MaxLagBytes} bytes" : "")}");
        if (r.Counts.Count > 0)
        {
            var differ = r.Counts.Where(c => c.Before != c.After).ToList();
            b.AppendLine(CultureInfo.InvariantCulture, $"  row counts: {r.Counts.Count - differ.Count} of {r.Counts.Count} tables equal");
            foreach (var c in differ) b.AppendLine(CultureInfo.InvariantCulture, $"    {c.Database}.{c.Table}: {c.Before} before, {c.After} after");
        }
        if (r.Smoke.Count > 0) b.AppendLine(CultureInfo.InvariantCulture, $"  smoke: {r.Smoke.Count(s => s.Passed)} of {r.Smoke.Count} passed");
        foreach (var s in r.Smoke.Where(s => !s.Passed)) b.AppendLine(CultureInfo.InvariantCulture, $"    {s.Database}: {s.Query}: {s.Detail}");
        foreach (var issue in r.Issues) b.AppendLine(CultureInfo.InvariantCulture, $"  issue: {issue}");
        if (r.Error.Length > 0) b.AppendLine(CultureInfo.InvariantCulture, $"  error: {r.Error}");
        return b.ToString();
    }

    public static string List(ListUpgradeRehearsalsResponse response)
    {
        if (response.Rehearsals.Count == 0) return "no upgrade rehearsals\n";
        var b = new StringBuilder();
        foreach (var r in response.Rehearsals)
        {
            b.AppendLine(CultureInfo.InvariantCulture,
                $"{r.Id,-5} {Method(r.Method),-10} {r.SourceVersion} -> {r.TargetVersion}  {State(r.State),-11} {r.StartedAt.ToDateTimeOffset():u}  {(r.Duration is { } d ? $"{d.ToTimeSpan().TotalSeconds:0.0}s" : "")}  {(r.CountsEqual ? "counts equal" : "")}");
        }
        return b.ToString();
    }

    public static string Targets(ListUpgradeTargetsResponse response)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"tier runs PostgreSQL {(response.SourceVersion == 0 ? "(not probed yet)" : response.SourceVersion.ToString(CultureInfo.InvariantCulture))}");
        if (response.Targets.Count == 0) b.AppendLine("no newer PostgreSQL installation found (configure ControlPlane:Upgrades:Installations:<major>)");
        foreach (var t in response.Targets)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"{t.Version} in {t.BinDirectory} ({t.Origin})");
            foreach (var m in t.Methods) b.AppendLine(CultureInfo.InvariantCulture, $"  {Method(m.Method),-10} {(m.Possible ? "possible" : "no"),-8} {m.Reason}");
        }
        return b.ToString();
    }
}
