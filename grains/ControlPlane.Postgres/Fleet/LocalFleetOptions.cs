namespace ControlPlane.Postgres.Fleet;

/// <summary>Shape of the embedded local fleet.</summary>
/// <param name="DataDirectory">Root holding <c>fleet/</c> and <c>secrets/</c>.</param>
public sealed record LocalFleetOptions(string DataDirectory)
{
    public static readonly IReadOnlyList<string> DefaultTiers = ["oltp", "content", "queue", "olap"];

    public string Environment { get; init; } = "local";
    public IReadOnlyList<string> Tiers { get; init; } = DefaultTiers;
    public int StandbysPerTier { get; init; } = 1;

    /// <summary>Tiers provisioned at once; initdb and base backups are CPU- and fsync-bound.</summary>
    public int Parallelism { get; init; } = 2;

    public string FleetDirectory => Path.Combine(DataDirectory, "fleet");
    public string SecretsDirectory => Path.Combine(DataDirectory, "secrets");
    public string ManifestPath => Path.Combine(FleetDirectory, "manifest.json");

    public string SuperuserPasswordFile(string tier) => Path.Combine(SecretsDirectory, $"{tier}.superuser");
    public string ReplicatorPasswordFile(string tier) => Path.Combine(SecretsDirectory, $"{tier}.replicator");
    public string ReplicaDataDirectory(string tier, string replica) => Path.Combine(FleetDirectory, tier, replica, "data");

    /// <summary><c>oltp-1</c> is the initial primary, <c>oltp-2</c>... the standbys.</summary>
    public IReadOnlyList<string> ReplicaNames(string tier) =>
        Enumerable.Range(1, 1 + StandbysPerTier).Select(i => $"{tier}-{i}").ToList();

    /// <summary>Replication slot of a standby on its primary: <c>oltp-2</c> streams through <c>oltp_2</c>.</summary>
    public static string SlotName(string replica) => replica.Replace('-', '_').ToLowerInvariant();
}
