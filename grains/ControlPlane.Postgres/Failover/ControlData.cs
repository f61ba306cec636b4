using System.Globalization;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Postgres.Failover;

/// <summary>What <c>pg_controldata</c> says about a stopped (or crashed) data directory.</summary>
/// <param name="State">"shut down", "shut down in recovery", "in production", "in crash recovery", ...</param>
/// <param name="CheckpointLsn">Latest checkpoint location: for a clean shutdown, the shutdown checkpoint record.</param>
/// <param name="CheckpointTimeline">Latest checkpoint's TimeLineID.</param>
/// <param name="MinRecoveryEnd">Minimum recovery ending location (0/0 when none).</param>
/// <param name="MinRecoveryEndTimeline">Timeline of <paramref name="MinRecoveryEnd"/> (0 when none).</param>
/// <param name="WalSegmentBytes">Bytes per WAL segment (initdb's --wal-segsize; 16 MiB unless changed).</param>
public sealed record ControlData(string State, Lsn CheckpointLsn, int CheckpointTimeline, Lsn MinRecoveryEnd, int MinRecoveryEndTimeline = 0,
    long WalSegmentBytes = ControlData.DefaultWalSegmentBytes)
{
    public const long DefaultWalSegmentBytes = 16L * 1024 * 1024;

    public const string ShutDown = "shut down";
    public const string ShutDownInRecovery = "shut down in recovery";

    /// <summary>A primary that went through a clean (smart or fast) shutdown: its WAL ends with the shutdown checkpoint.</summary>
    public bool IsCleanPrimaryShutdown => State == ShutDown;

    /// <summary>Any clean shutdown, of a primary or of a standby.</summary>
    public bool IsCleanShutdown => State is ShutDown or ShutDownInRecovery;

    /// <summary>Parses <c>pg_controldata</c> output produced under <c>LC_ALL=C</c>.</summary>
    public static ControlData Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) continue;
            fields.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
        }
        return new ControlData(
            Field(fields, "Database cluster state"),
            Lsn.Parse(Field(fields, "Latest checkpoint location")),
            int.Parse(Field(fields, "Latest checkpoint's TimeLineID"), NumberStyles.None, CultureInfo.InvariantCulture),
            Lsn.Parse(Field(fields, "Minimum recovery ending location")),
            fields.TryGetValue("Min recovery ending loc's timeline", out var minTli)
                && int.TryParse(minTli, NumberStyles.None, CultureInfo.InvariantCulture, out var tli) ? tli : 0,
            fields.TryGetValue("Bytes per WAL segment", out var segment)
                && long.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes > 0 ? bytes : DefaultWalSegmentBytes);
    }

    private static string Field(Dictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new FormatException($"pg_controldata output has no '{name}' line; expected the output of pg_controldata run with LC_ALL=C.");
}
