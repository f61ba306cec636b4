using System.Globalization;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace ControlPlane.Cli.Fleet;

/// <summary>Pure formatting of fleet values for people: sizes, ages, durations, enum names.</summary>
internal static class FleetFormat
{
    private static readonly string[] ByteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary>Binary units, one decimal above bytes: 0 B, 512 B, 1.5 KiB, 16.0 MiB.</summary>
    public static string Bytes(long bytes)
    {
        if (bytes < 0)
        {
            return "-" + Bytes(bytes == long.MinValue ? long.MaxValue : -bytes);
        }

        if (bytes < 1024)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes} B");
        }

        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < ByteUnits.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {ByteUnits[unit]}");
    }

    /// <summary>Compact duration: 0.4s, 12s, 3m05s, 2h05m, 3d04h.</summary>
    public static string Duration(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            duration = TimeSpan.Zero;
        }

        var inv = CultureInfo.InvariantCulture;
        return duration.TotalSeconds switch
        {
            < 10 => string.Create(inv, $"{Math.Floor(duration.TotalSeconds * 10) / 10:0.0}s"),
            < 60 => string.Create(inv, $"{(int)duration.TotalSeconds}s"),
            < 3600 => string.Create(inv, $"{duration.Minutes}m{duration.Seconds:00}s"),
            < 86400 => string.Create(inv, $"{duration.Hours}h{duration.Minutes:00}m"),
            _ => string.Create(inv, $"{(int)duration.TotalDays}d{duration.Hours:00}h"),
        };
    }

    /// <summary>How long ago <paramref name="at"/> was: "0.4s ago"; "never" when unset. Clock skew reads as "0.0s ago".</summary>
    public static string Age(Timestamp? at, DateTimeOffset now) =>
        at is null || (at.Seconds == 0 && at.Nanos == 0)
            ? "never"
            : Duration(now - at.ToDateTimeOffset()) + " ago";

    /// <summary>Replay lag in seconds as a duration, "0s" when caught up.</summary>
    public static string LagSeconds(double seconds) =>
        seconds <= 0 || double.IsNaN(seconds) ? "0s" : Duration(TimeSpan.FromSeconds(seconds));

    public static string Connections(int used, int max) =>
        max > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{used}/{max}")
            : string.Create(CultureInfo.InvariantCulture, $"{used}/?");

    public static string Health(TierHealth health) => health switch
    {
        TierHealth.Healthy => "HEALTHY",
        TierHealth.Degraded => "DEGRADED",
        TierHealth.Down => "DOWN",
        _ => "UNKNOWN",
    };

    /// <summary>Spectre colour of a tier health.</summary>
    public static string HealthColour(TierHealth health) => health switch
    {
        TierHealth.Healthy => "green",
        TierHealth.Degraded => "yellow",
        TierHealth.Down => "red",
        _ => "grey",
    };

    public static string Role(ReplicaRole role) => role switch
    {
        ReplicaRole.Primary => "primary",
        ReplicaRole.Standby => "standby",
        _ => "unknown",
    };

    /// <summary>An event time in UTC, to the millisecond: unambiguous across SREs' time zones.</summary>
    public static string Time(Timestamp? at) =>
        at is null
            ? "-"
            : at.ToDateTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string OrDash(string? value) => string.IsNullOrEmpty(value) ? "-" : value;
}
