using System.Net;
using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Security;

namespace ControlPlane.Silo.Hosting;

/// <summary>Where the fleet comes from.</summary>
public enum FleetSource
{
    /// <summary>The embedded local fleet: four tiers on this host, provisioned under the data directory.</summary>
    Local,
    /// <summary>No fleet: the control plane runs with no tiers.</summary>
    None,
    /// <summary>The tiers described under <c>ControlPlane:Tiers</c>.</summary>
    Config,
}

/// <summary>Everything the silo reads from <c>ControlPlane:*</c> (appsettings, <c>CONTROLPLANE__*</c> variables, flags).</summary>
public sealed class ControlPlaneOptions
{
    public const string Section = "ControlPlane";

    public string DataDirectory { get; set; } = ".controlplane";
    public string Environment { get; set; } = "local";
    public FleetSource Fleet { get; set; } = FleetSource.Local;
    public string ListenAddress { get; set; } = "127.0.0.1";
    public int GrpcPort { get; set; } = 7400;
    public int MetricsPort { get; set; } = 7401;
    /// <summary>Allow the gateway on a non-loopback address without TLS. Off: plaintext stays on loopback.</summary>
    public bool AllowPlaintextOnNetwork { get; set; }
    public int StandbysPerTier { get; set; } = 1;

    /// <summary>Tiers of the local fleet (default the four: oltp, content, queue, olap).</summary>
    public List<string> LocalTiers { get; set; } = [];
    public CatalogOptions Catalog { get; set; } = new();

    /// <summary>
    /// Data directory of another silo on this host whose embedded catalog this silo joins (same cluster). A joining
    /// silo runs no catalog and no fleet of its own; it hosts grains of the first silo's fleet.
    /// </summary>
    public string? Join { get; set; }
    public ClusterOptionsSection Cluster { get; set; } = new();
    public List<ConfiguredTier> Tiers { get; set; } = [];
    public SecurityOptions Security { get; set; } = new();

    /// <summary>
    /// How long the silo itself (gateway, Orleans leaving the cluster, grains) may take to stop before it is cut short;
    /// the local instances are stopped after it regardless (docs/catalog.md, "Stopping a silo while the catalog is down").
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TlsOptions Tls { get; set; } = new();

    /// <summary>The database host this silo runs on (docs/hosts.md); empty: the single-host default.</summary>
    public ControlPlane.Grains.Hosts.HostIdentity Host { get; set; } = new();

    /// <summary>The problems with these settings, each naming the key, the value and what was expected.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory)) errors.Add("ControlPlane:DataDirectory is empty; expected a directory path.");
        if (!FleetKeys.IsValidName(Environment))
            errors.Add($"ControlPlane:Environment is '{Environment}'; expected a name matching {FleetKeys.NamePattern}.");
        if (!IPAddress.TryParse(ListenAddress, out var address))
            errors.Add($"ControlPlane:ListenAddress is '{ListenAddress}'; expected an IP address such as 127.0.0.1.");
        else if (!IPAddress.IsLoopback(address) && !AllowPlaintextOnNetwork && !Tls.Enabled)
            errors.Add($"ControlPlane:ListenAddress is {ListenAddress}, which is not loopback; plaintext gRPC stays on loopback unless ControlPlane:Tls:CertificateFile is set or ControlPlane:AllowPlaintextOnNetwork is true.");
        errors.AddRange(Security.Validate());
        errors.AddRange(Tls.Validate());
        errors.AddRange(Catalog.Validate());
        errors.AddRange(Host.Validate());
        errors.AddRange(Host.SelfFence.Validate(Cluster.ProbeTimeout));
        if (ShutdownTimeout < TimeSpan.FromSeconds(1) || ShutdownTimeout > TimeSpan.FromMinutes(10))
            errors.Add($"ControlPlane:ShutdownTimeout is {ShutdownTimeout}; expected 00:00:01 to 00:10:00.");
        if (GrpcPort is < 1 or > 65535) errors.Add($"ControlPlane:GrpcPort is {GrpcPort}; expected 1 to 65535.");
        if (MetricsPort is < 0 or > 65535) errors.Add($"ControlPlane:MetricsPort is {MetricsPort}; expected 0 (any free port) to 65535.");
        if (MetricsPort == GrpcPort) errors.Add($"ControlPlane:MetricsPort and ControlPlane:GrpcPort are both {GrpcPort}; they need their own ports.");
        if (StandbysPerTier is < 0 or > 5) errors.Add($"ControlPlane:StandbysPerTier is {StandbysPerTier}; expected 0 to 5.");
        foreach (var tier in LocalTiers.Where(t => !FleetKeys.IsValidName(t)))
            errors.Add($"ControlPlane:LocalTiers names '{tier}'; expected names matching {FleetKeys.NamePattern}.");
        if (Cluster.SiloPort is < 0 or > 65535) errors.Add($"ControlPlane:Cluster:SiloPort is {Cluster.SiloPort}; expected 0 (any free port) to 65535.");
        if (string.IsNullOrWhiteSpace(Cluster.ClusterId)) errors.Add("ControlPlane:Cluster:ClusterId is empty.");
        if (string.IsNullOrWhiteSpace(Cluster.ServiceId)) errors.Add("ControlPlane:Cluster:ServiceId is empty.");
        if (!string.IsNullOrWhiteSpace(Join) && !string.IsNullOrWhiteSpace(Catalog.ConnectionString))
            errors.Add("ControlPlane:Join and ControlPlane:Catalog:ConnectionString both name a catalog; give one.");
        if (!string.IsNullOrWhiteSpace(Join) && Fleet == FleetSource.Local)
            errors.Add("ControlPlane:Join joins another silo's fleet; this silo cannot also run a local fleet: use --fleet none.");
        if (Fleet == FleetSource.Config && Tiers.Count == 0)
            errors.Add("ControlPlane:Fleet is Config but ControlPlane:Tiers is empty; describe at least one tier.");
        if (Fleet != FleetSource.Config && Tiers.Count > 0)
            errors.Add($"ControlPlane:Tiers describes {Tiers.Count} tier(s) but ControlPlane:Fleet is {Fleet}; set it to Config to use them.");
        for (var i = 0; i < Tiers.Count; i++) errors.AddRange(Tiers[i].Validate($"ControlPlane:Tiers:{i}"));
        var duplicate = Tiers.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) errors.Add($"ControlPlane:Tiers names tier '{duplicate.Key}' more than once.");
        return errors;
    }
}

/// <summary>The control plane's own database. Empty connection string: the embedded catalog instance.</summary>
public sealed class CatalogOptions
{
    /// <summary>Connection string without the password; the password comes from <see cref="PasswordFile"/>.</summary>
    public string? ConnectionString { get; set; }
    public string? PasswordFile { get; set; }

    /// <summary>How often the supervisor checks the catalog (postmaster alive, fresh connection + SELECT 1).</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one reachability check may take (connect, authenticate, SELECT 1).</summary>
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Failed checks in a row before the catalog is called unreachable (commands refused, health NOT_SERVING).</summary>
    public int UnreachableAfter { get; set; } = 3;

    /// <summary>Crashes of the embedded catalog within <see cref="CrashLoopWindow"/> that raise the crash-loop alert.</summary>
    public int CrashLoopCount { get; set; } = 3;

    public TimeSpan CrashLoopWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>WAL archive and scheduled base backups of the embedded catalog.</summary>
    public Catalog.CatalogBackupOptions Backups { get; set; } = new();

    /// <summary>
    /// Run a streaming standby of the embedded catalog on this silo (<c>--catalog-standby</c>): beside the catalog on
    /// the silo that provisions it, or on a silo that <c>--join</c>s it (docs/catalog.md, "HA catalog").
    /// </summary>
    public bool Standby { get; set; }

    /// <summary>The standby's data directory; default <c>&lt;data-dir&gt;/catalog-standby/data</c>.</summary>
    public string? StandbyDataDirectory { get; set; }

    /// <summary>The primary acknowledges a commit only once the standby has it (default): no acknowledged write is lost by a promotion.</summary>
    public bool Synchronous { get; set; } = true;

    /// <summary>
    /// How long the catalog primary's commits wait for a synchronous standby that does not stream before they stop
    /// waiting (the standby is then not promoted until it is synchronous and caught up again): docs/catalog.md,
    /// "When the standby is lost".
    /// </summary>
    public TimeSpan SynchronousDegradeAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Commits keep waiting for a lost synchronous standby (no write acknowledged without it; commands stall).</summary>
    public bool SynchronousStrict { get; set; }

    internal IEnumerable<string> Validate()
    {
        foreach (var error in Backups.Validate()) yield return error;
        if (Standby && !string.IsNullOrWhiteSpace(ConnectionString))
            yield return "ControlPlane:Catalog:Standby runs a standby of the embedded catalog; an external catalog (ControlPlane:Catalog:ConnectionString) is replicated by its operator: list its hosts in the connection string instead.";
        if (CheckInterval < TimeSpan.FromMilliseconds(100) || CheckInterval > TimeSpan.FromMinutes(1))
            yield return $"ControlPlane:Catalog:CheckInterval is {CheckInterval}; expected 00:00:00.1 to 00:01:00.";
        if (CheckTimeout < TimeSpan.FromMilliseconds(100) || CheckTimeout > TimeSpan.FromSeconds(30))
            yield return $"ControlPlane:Catalog:CheckTimeout is {CheckTimeout}; expected 00:00:00.1 to 00:00:30.";
        if (UnreachableAfter is < 1 or > 100) yield return $"ControlPlane:Catalog:UnreachableAfter is {UnreachableAfter}; expected 1 to 100.";
        if (CrashLoopCount is < 1 or > 1000) yield return $"ControlPlane:Catalog:CrashLoopCount is {CrashLoopCount}; expected 1 to 1000.";
        if (SynchronousDegradeAfter < TimeSpan.FromMilliseconds(500) || SynchronousDegradeAfter > TimeSpan.FromMinutes(10))
            yield return $"ControlPlane:Catalog:SynchronousDegradeAfter is {SynchronousDegradeAfter}; expected 00:00:00.5 to 00:10:00 (ControlPlane:Catalog:SynchronousStrict=true never degrades).";
        if (CrashLoopWindow <= TimeSpan.Zero || CrashLoopWindow > TimeSpan.FromDays(1))
            yield return $"ControlPlane:Catalog:CrashLoopWindow is {CrashLoopWindow}; expected more than 0 and at most 1.00:00:00.";
    }
}

/// <summary>Orleans cluster identity and ports.</summary>
public sealed class ClusterOptionsSection
{
    public string ClusterId { get; set; } = "controlplane";
    public string ServiceId { get; set; } = "controlplane";
    /// <summary>Silo-to-silo port; 0 picks a free one at each start.</summary>
    public int SiloPort { get; set; }

    /// <summary>
    /// How long a membership probe of another silo may take; a silo missing three in a row is voted dead and its
    /// grains move. Short, because a dead silo's tiers are unmanaged until then.
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>A tier reached over the network (instead of the local fleet).</summary>
public sealed class ConfiguredTier
{
    public string Name { get; set; } = "";
    /// <summary>Name of the replica that is primary when the control plane first sees the tier.</summary>
    public string Primary { get; set; } = "";
    public List<ConfiguredReplica> Replicas { get; set; } = [];

    internal IEnumerable<string> Validate(string key)
    {
        if (!FleetKeys.IsValidName(Name)) yield return $"{key}:Name is '{Name}'; expected a name matching {FleetKeys.NamePattern}.";
        if (Replicas.Count == 0) yield return $"{key}:Replicas is empty; expected at least the primary.";
        if (Replicas.All(r => r.Name != Primary)) yield return $"{key}:Primary is '{Primary}'; expected the name of one of its replicas.";
        for (var i = 0; i < Replicas.Count; i++)
        {
            foreach (var e in Replicas[i].Validate($"{key}:Replicas:{i}")) yield return e;
        }
    }
}

/// <summary>One replica reached over SQL; its password is read from a file, never from configuration.</summary>
public sealed class ConfiguredReplica
{
    public string Name { get; set; } = "";
    public string Host { get; set; } = "";
    public int Port { get; set; } = 5432;
    public string Database { get; set; } = "postgres";
    public string User { get; set; } = "postgres";
    public string PasswordFile { get; set; } = "";

    /// <summary>The database host it runs on (a <c>ControlPlane:Host:Name</c>); that host's silo drives it (docs/hosts.md).</summary>
    public string? HostName { get; set; }

    /// <summary>Its data directory on that host; without it the replica is reached over SQL only, from every silo.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Password file of the replicator role, for a replica its host's silo may rejoin or rebuild.</summary>
    public string? ReplicatorPasswordFile { get; set; }

    internal IEnumerable<string> Validate(string key)
    {
        if (!FleetKeys.IsValidName(Name)) yield return $"{key}:Name is '{Name}'; expected a name matching {FleetKeys.NamePattern}.";
        if (HostName is not null && !FleetKeys.IsValidName(HostName)) yield return $"{key}:HostName is '{HostName}'; expected a name matching {FleetKeys.NamePattern}.";
        if (DataDirectory is not null && !Path.IsPathFullyQualified(DataDirectory)) yield return $"{key}:DataDirectory is '{DataDirectory}'; expected an absolute path on its host.";
        if (string.IsNullOrWhiteSpace(Host)) yield return $"{key}:Host is empty.";
        if (Port is < 1 or > 65535) yield return $"{key}:Port is {Port}; expected 1 to 65535.";
        if (string.IsNullOrWhiteSpace(User)) yield return $"{key}:User is empty.";
        if (string.IsNullOrWhiteSpace(PasswordFile)) yield return $"{key}:PasswordFile is empty; passwords are read from files, never from configuration.";
    }
}
