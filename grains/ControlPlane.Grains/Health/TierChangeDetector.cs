namespace ControlPlane.Grains.Health;

/// <summary>What differs between two views of a tier, in words an SRE reads on a watch.</summary>
/// <param name="Structural">Health, roles, reachability, primary or term changed: publish at once.</param>
/// <param name="Measurements">Lag, positions or connection counts changed: publish at the coalescing pace.</param>
public sealed record TierDiff(IReadOnlyList<string> Structural, IReadOnlyList<string> Measurements)
{
    public bool IsEmpty => Structural.Count == 0 && Measurements.Count == 0;
}

/// <summary>
/// Pure comparison of tier views. Probe timestamps and latencies are deliberately not changes:
/// they move on every probe and would turn every tier's version into a clock.
/// </summary>
public static class TierChangeDetector
{
    public static TierDiff Diff(TierSnapshot? before, TierView after, string primary, long term, bool paused = false, string alert = "", string poolAlert = "", string backupAlert = "")
    {
        ArgumentNullException.ThrowIfNull(after);
        var structural = new List<string>();
        var measurements = new List<string>();
        if (before is null)
        {
            structural.Add("tier registered");
            return new TierDiff(structural, measurements);
        }
        if (before.Term != term) structural.Add($"term {before.Term} -> {term}");
        if (before.Paused != paused) structural.Add(paused ? "automatic decisions paused" : "automatic decisions resumed");
        if (before.Alert != alert && alert.Length > 0) structural.Add($"alert: {alert}");
        else if (before.Alert != alert) structural.Add("alert cleared");
        if (before.PoolAlert != poolAlert) structural.Add(poolAlert.Length > 0 ? $"pool: {poolAlert}" : "pool alerts cleared");
        if (before.BackupAlert != backupAlert) structural.Add(backupAlert.Length > 0 ? $"backup: {backupAlert}" : "backup alerts cleared");
        if (before.Primary != primary) structural.Add($"primary {Show(before.Primary)} -> {Show(primary)}");
        if (before.Health != after.Health) structural.Add($"health {before.Health} -> {after.Health}");
        else if (before.HealthReason != after.HealthReason) structural.Add($"reason: {Show(after.HealthReason)}");

        var old = before.Replicas.ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (var now in after.Replicas)
        {
            if (!old.Remove(now.Name, out var was))
            {
                structural.Add($"{now.Name} added");
                continue;
            }
            if (was.Role != now.Role) structural.Add($"{now.Name} role {was.Role} -> {now.Role}");
            if (was.Reachable != now.Reachable) structural.Add($"{now.Name} {(now.Reachable ? "reachable" : "unreachable")}");
            if (was.Healthy != now.Healthy) structural.Add($"{now.Name} {(now.Healthy ? "healthy" : "unhealthy: " + now.Problem)}");
            else if (was.Problem != now.Problem && now.Problem.Length > 0) structural.Add($"{now.Name}: {now.Problem}");
            if (was.Host != now.Host || was.Port != now.Port) structural.Add($"{now.Name} endpoint {now.Host}:{now.Port}");

            if (was.LagBytes != now.LagBytes) measurements.Add($"{now.Name} lag {now.LagBytes} B");
            if (Math.Abs(was.LagSeconds - now.LagSeconds) >= 0.001) measurements.Add($"{now.Name} lag {now.LagSeconds:0.###} s");
            if (was.Connections != now.Connections || was.MaxConnections != now.MaxConnections)
                measurements.Add($"{now.Name} connections {now.Connections}/{now.MaxConnections}");
            if (was.CurrentLsn != now.CurrentLsn || was.ReplayLsn != now.ReplayLsn || was.ReceiveLsn != now.ReceiveLsn)
                measurements.Add($"{now.Name} WAL position moved");
            if (was.Timeline != now.Timeline) structural.Add($"{now.Name} timeline {now.Timeline}");
        }
        foreach (var gone in old.Keys) structural.Add($"{gone} removed");
        return new TierDiff(structural, measurements);
    }

    private static string Show(string value) => value.Length == 0 ? "(none)" : value;
}
