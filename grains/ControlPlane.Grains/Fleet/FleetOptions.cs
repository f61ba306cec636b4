namespace ControlPlane.Grains.Fleet;

/// <summary>How often replicas are probed and how tiers publish. Bound from <c>ControlPlane:Probes</c>.</summary>
public sealed class FleetOptions
{
    public const string Section = "ControlPlane:Probes";

    /// <summary>Time between two probes of one replica.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Connect plus query deadline of one probe; must stay below <see cref="Interval"/>.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>Measurement-only changes (lag, connections) are published at most this often per tier.</summary>
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A replica that has not reported for this many intervals is treated as unreachable.</summary>
    public int StaleAfterIntervals { get; set; } = 5;

    /// <summary>The problems with these settings, empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Interval < TimeSpan.FromMilliseconds(100) || Interval > TimeSpan.FromMinutes(5))
            errors.Add($"{Section}:Interval is {Interval}; expected between 00:00:00.1 and 00:05:00.");
        if (Timeout <= TimeSpan.Zero || Timeout >= Interval)
            errors.Add($"{Section}:Timeout is {Timeout}; expected more than zero and less than the interval {Interval}.");
        if (PublishInterval < TimeSpan.FromMilliseconds(50) || PublishInterval > TimeSpan.FromMinutes(1))
            errors.Add($"{Section}:PublishInterval is {PublishInterval}; expected between 00:00:00.05 and 00:01:00.");
        if (StaleAfterIntervals is < 2 or > 1000)
            errors.Add($"{Section}:StaleAfterIntervals is {StaleAfterIntervals}; expected between 2 and 1000.");
        return errors;
    }
}
