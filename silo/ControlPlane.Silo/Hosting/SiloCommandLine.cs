namespace ControlPlane.Silo.Hosting;

/// <summary>The silo's flags, each a shorthand for a configuration key.</summary>
internal static class SiloCommandLine
{
    public static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--data-dir"] = "ControlPlane:DataDirectory",
        ["--grpc-port"] = "ControlPlane:GrpcPort",
        ["--metrics-port"] = "ControlPlane:MetricsPort",
        ["--board-port"] = "ControlPlane:Board:Port",
        ["--fleet"] = "ControlPlane:Fleet",
        ["--environment"] = "ControlPlane:Environment",
        ["--listen"] = "ControlPlane:ListenAddress",
        ["--silo-port"] = "ControlPlane:Cluster:SiloPort",
        ["--catalog"] = "ControlPlane:Catalog:ConnectionString",
        ["--catalog-password-file"] = "ControlPlane:Catalog:PasswordFile",
        ["--join"] = "ControlPlane:Join",
        ["--catalog-standby"] = "ControlPlane:Catalog:Standby",
        ["--catalog-standby-dir"] = "ControlPlane:Catalog:StandbyDataDirectory",
        ["--host"] = "ControlPlane:Host:Name",
        ["--host-address"] = "ControlPlane:Host:Address",
        ["--insecure-no-auth"] = "ControlPlane:Security:InsecureNoAuth",
    };

    /// <summary>Flags that take no value; the configuration reader needs one, so they become "--flag=true".</summary>
    private static readonly string[] BareFlags = ["--insecure-no-auth", "--catalog-standby"];

    public static string[] Normalize(IEnumerable<string> args) =>
        args.Select(a => BareFlags.Contains(a, StringComparer.Ordinal) ? a + "=true" : a).ToArray();

    public const string Usage = """
        ControlPlane silo: the control plane of the PenguinMails PostgreSQL fleet.

        Usage: dotnet run --project silo/ControlPlane.Silo -- [options]

          --data-dir DIR       where the catalog and the local fleet live (default ./.controlplane)
          --grpc-port N        gRPC gateway port on the listen address (default 7400)
          --metrics-port N     Prometheus /metrics port (default 7401; 0 picks a free one)
          --board-port N       web status board port, HTTP/1.1 (default 0: a free one, shown in the banner)
          --fleet local|none|config
                               the embedded four-tier fleet, no fleet, or the tiers in ControlPlane:Tiers
          --environment NAME   environment name of the fleet (default local)
          --listen ADDRESS     listen address (default 127.0.0.1)
          --silo-port N        Orleans silo-to-silo port (default 0: a free port)
          --catalog CONNSTR    use this catalog database instead of the embedded one (no password in it)
          --catalog-password-file FILE
                               file holding the catalog password
          --join DIR           join the cluster of the silo whose data directory is DIR (its embedded catalog);
                               use with --fleet none: this silo then hosts grains of that silo's fleet
          --catalog-standby    run a synchronous streaming standby of the embedded catalog on this silo (with
                               --join: of the joined silo's catalog); promoted when a majority of the silos lose
                               the primary (docs/catalog.md, "HA catalog")
          --catalog-standby-dir DIR
                               the standby's data directory (default <data-dir>/catalog-standby/data)
          --host NAME          the database host this silo runs on: replicas whose HostName is NAME are driven
                               by it (docs/hosts.md)
          --host-address IP    the host's address: the silo listens there (a simulated host: 127.0.0.2, ...)
          --insecure-no-auth   turn authentication off: every caller is an admin (local experiments only;
                               says so loudly at start-up)
          --help               this text

        Offline: catalog-restore --data-dir DIR [--target latest|TIME] [--backup ID] restores the embedded
        catalog from its backups while the silo is stopped (catalog-restore --help; docs/catalog.md).
        Offline: catalog-promote --catalog-dir DIR --accept-data-loss promotes the catalog standby by hand when
        the silos refuse because it may lack acknowledged writes (catalog-promote --help; docs/catalog.md).

        Every option is also a configuration key (appsettings.json, CONTROLPLANE__* variables); see docs/configuration.md.
        """;

    /// <summary>Flags we do not know are an error, not silently ignored: a typo must not start a default fleet.</summary>
    public static IReadOnlyList<string> UnknownFlags(IEnumerable<string> args) =>
        args.Where(a => a.StartsWith("--", StringComparison.Ordinal))
            .Select(a => a.Split('=', 2)[0])
            .Where(a => !Switches.ContainsKey(a) && a != "--help")
            .ToList();
}
