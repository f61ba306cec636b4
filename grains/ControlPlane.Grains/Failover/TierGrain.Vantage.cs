using ControlPlane.Grains.Failover;

namespace ControlPlane.Grains.Health;

/// <summary>
/// The tier's vantage points: every host's silo probes the tier's replicas and reports here
/// (<c>ControlPlane.Silo.Hosts.VantageProbes</c>); a failover for unreachability needs their agreement
/// (<see cref="VantagePolicy"/>). Kept in memory only: a new activation hears from every silo within a probe interval.
/// </summary>
public sealed partial class TierGrain
{
    private readonly Dictionary<(string Silo, string Replica), VantageReport> _vantage = [];
    private readonly HashSet<string> _vantageSilos = new(StringComparer.Ordinal);

    public Task ReportVantage(IReadOnlyList<VantageReport> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        foreach (var r in reports)
        {
            _vantageSilos.Add(r.Silo);
            if (_vantage.TryGetValue((r.Silo, r.Replica), out var known) && known.At >= r.At) continue;
            _vantage[(r.Silo, r.Replica)] = r;
        }
        return Task.CompletedTask;
    }

    private VantageVerdict Vantage(TierSpec spec, DateTimeOffset now)
    {
        var home = spec.Replicas.FirstOrDefault(r => r.Name == state.State.Primary)?.HostName;
        return VantagePolicy.Confirm(state.State.Primary,
            new VantageView(_vantageSilos, hostSilos.ActiveSilos(), home, _vantage.Values.ToList(), now, StaleAfter));
    }
}
