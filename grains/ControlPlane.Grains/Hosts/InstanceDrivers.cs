using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Hosts;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Hosts;

/// <summary>
/// Picks the driver a replica grain acts through: the host-local one only on the replica's own host (and only for
/// an instance with a data directory), the SQL-only one everywhere else, so no silo ever touches another host's
/// files. A replica that names no host is local to whichever silo runs it: the single-host default.
/// </summary>
public static class InstanceDrivers
{
    /// <summary>True when a silo on <paramref name="localHost"/> ("" when it declares none) drives <paramref name="spec"/> on its host.</summary>
    public static bool OnHost(ReplicaSpec spec, string localHost)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.DataDirectory is not null && (spec.HostName is null || string.Equals(spec.HostName, localHost, StringComparison.Ordinal));
    }

    public static IInstanceDriver For(ReplicaSpec spec, HostIdentity host, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (!OnHost(spec, host.Name)) return new SqlOnlyInstanceDriver(spec.Tier, spec.Name, spec.HostName ?? spec.Host);
        return new LocalInstanceDriver(
            new LocalInstanceOptions(spec.Tier, spec.Name, spec.DataDirectory!, spec.Port, spec.PasswordFile, spec.ReplicatorPasswordFile)
            {
                ListenAddress = spec.Host,
            },
            logger);
    }
}
