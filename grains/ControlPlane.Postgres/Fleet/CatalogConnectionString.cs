using System.Globalization;
using Npgsql;

namespace ControlPlane.Postgres.Fleet;

/// <summary>
/// Connection strings to the catalog. With a standby there are several hosts, and every silo must land on the
/// writable one for Orleans' clustering, persistence and reminders and for the control plane's own queries alike:
/// Npgsql tries the hosts in order and keeps the first that accepts writes (<c>Target Session Attributes=read-write</c>),
/// and re-checks a host it found down or read-only after <see cref="HostRecheckSeconds"/> (its default, 10 s, would
/// alone exceed the failover goal).
/// </summary>
public static class CatalogConnectionString
{
    public const int HostRecheckSeconds = 1;

    /// <summary>The connection string for <paramref name="members"/> (one host: a plain single-host string).</summary>
    public static string ForMembers(IReadOnlyList<CatalogMember> members, string database, string user, string password)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("a catalog has at least one instance", nameof(members));
        var csb = new NpgsqlConnectionStringBuilder
        {
            Database = database,
            Username = user,
            Password = password,
            ApplicationName = "controlplane",
        };
        if (members.Count == 1)
        {
            csb.Host = members[0].Host;
            csb.Port = members[0].Port;
        }
        else
        {
            csb.Host = string.Join(',', members.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Host}:{m.Port}")));
            csb.TargetSessionAttributes = "read-write";
            csb.HostRecheckSeconds = HostRecheckSeconds;
        }
        return csb.ConnectionString;
    }

    /// <summary>The hosts a connection string names, as host:port (the default port where none is given).</summary>
    public static IReadOnlyList<string> Hosts(NpgsqlConnectionStringBuilder csb)
    {
        ArgumentNullException.ThrowIfNull(csb);
        return (csb.Host ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(h => h.Contains(':', StringComparison.Ordinal) && !h.StartsWith('[') ? h : string.Create(CultureInfo.InvariantCulture, $"{h}:{csb.Port}"))
            .ToList();
    }

    /// <summary>
    /// Why <paramref name="csb"/> cannot be a catalog connection string, or null. Several hosts need
    /// <c>Target Session Attributes</c> <c>read-write</c> or <c>primary</c>: with any other value a silo could
    /// connect to a standby and every write of Orleans and the gateway would fail there.
    /// </summary>
    public static string? Problem(NpgsqlConnectionStringBuilder csb, string key)
    {
        ArgumentNullException.ThrowIfNull(csb);
        var hosts = Hosts(csb);
        if (hosts.Count == 0) return $"{key} names no host.";
        if (hosts.Count == 1) return null;
        var target = (csb.TargetSessionAttributes ?? "any").Trim().ToLowerInvariant();
        return target is "read-write" or "primary"
            ? null
            : $"{key} names {hosts.Count} hosts ({string.Join(", ", hosts)}) with Target Session Attributes '{target}': a silo could connect to a read-only standby; set Target Session Attributes=read-write.";
    }
}
