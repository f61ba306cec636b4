using System.Text.Json;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Fleet;

/// <summary>One instance of the catalog as the manifest remembers it (all on loopback: docs/catalog.md, "HA catalog").</summary>
/// <param name="Name">Its name and application_name: <c>catalog</c> or <c>catalog-standby</c>.</param>
/// <param name="DataDirectory">Its data directory, on this machine.</param>
public sealed record CatalogMember(string Name, string Host, int Port, string DataDirectory)
{
    /// <summary>How to reach it as the catalog's superuser.</summary>
    public ReplicaEndpoint Endpoint(string superuserPasswordFile) =>
        new("catalog", Name, Host, Port, "postgres", "postgres", superuserPasswordFile, DataDirectory);
}

/// <summary>
/// <c>catalog.json</c> in the data directory of the silo that provisioned the catalog: the primary instance's port,
/// the standbys added by <c>--catalog-standby</c>, and which instance is primary. <see cref="Primary"/> and
/// <see cref="Promotions"/> are the promotion's persisted decision: they are written (under <see cref="LockAsync"/>) before
/// a standby is promoted, and an instance that is not <see cref="Primary"/> is never started as a primary again.
/// </summary>
/// <param name="Port">Port of the first catalog instance (<see cref="CatalogInstance.PrimaryName"/>).</param>
/// <param name="Primary">Name of the instance that may be primary; null (the first instance) until a promotion.</param>
/// <param name="Promotions">Promotions decided so far; each one increases it.</param>
/// <param name="Asynchronous">The standby was added asynchronous (<c>ControlPlane:Catalog:Synchronous=false</c>): commits
/// never wait for it, and a promotion may lose the last acknowledged writes.</param>
/// <param name="SynchronousDegradedSince">Set (persisted before the primary stops waiting for its standby) while the
/// standby may lack acknowledged writes: the primary commits without it, or a promotion left the old primary out.
/// While set, the standby is never promoted; cleared once the standby streams synchronously and has caught up.</param>
/// <param name="SynchronousDegradedReason">Why the replication was degraded, for people.</param>
public sealed record CatalogManifest(
    int Port, IReadOnlyList<CatalogMember>? Standbys = null, string? Primary = null, int Promotions = 0, bool Asynchronous = false,
    DateTimeOffset? SynchronousDegradedSince = null, string? SynchronousDegradedReason = null)
{
    /// <summary>The first instance and the standbys, primary first (the multi-host connection string tries them in order).</summary>
    public IReadOnlyList<CatalogMember> Members(string primaryDataDirectory = "")
    {
        var first = new CatalogMember(CatalogInstance.PrimaryName, InstanceConfig.LoopbackAddress, Port, primaryDataDirectory);
        var all = new List<CatalogMember> { first };
        all.AddRange(Standbys ?? []);
        return [.. all.OrderBy(m => m.Name == PrimaryName ? 0 : 1)];
    }

    /// <summary>The instance that may be primary.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string PrimaryName => Primary ?? CatalogInstance.PrimaryName;

    public static async Task<CatalogManifest?> ReadAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path)) return null;
        return JsonSerializer.Deserialize<CatalogManifest>(await File.ReadAllTextAsync(path, ct).ConfigureAwait(false));
    }

    /// <summary>Read, change and write the manifest under its lock (the file is replaced atomically).</summary>
    public static async Task<CatalogManifest> UpdateAsync(string path, Func<CatalogManifest, CatalogManifest> change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        using var held = await LockAsync(path, ct).ConfigureAwait(false);
        return await UpdateLockedAsync(path, change, ct).ConfigureAwait(false);
    }

    /// <summary>As <see cref="UpdateAsync"/>, for a caller already holding <see cref="LockAsync"/>.</summary>
    public static async Task<CatalogManifest> UpdateLockedAsync(string path, Func<CatalogManifest, CatalogManifest> change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        var next = change(await ReadAsync(path, ct).ConfigureAwait(false) ?? new CatalogManifest(0));
        var temp = path + ".tmp";
        await OsUser.WriteFileAsync(temp, JsonSerializer.Serialize(next),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, forPostgres: false, ct).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
        return next;
    }

    /// <summary>
    /// An exclusive lock beside the manifest, held while a decision about the catalog's roles is taken and acted on
    /// (a promotion, a restart of the primary), so the two never interleave on this machine.
    /// </summary>
    public static async Task<IDisposable> LockAsync(string path, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(50, ct).ConfigureAwait(false);
            }
        }
    }
}

public enum CatalogStartAction { StartAsIs, RejoinAsStandby }

/// <summary>
/// The fence, pure: an instance the manifest does not name as primary is never started as one. The manifest is
/// written before a promotion, so an old primary that returns (its silo restarted, or its supervisor finding it
/// gone) after its peer was promoted is rewound onto the new primary's timeline and started as its standby.
/// </summary>
public static class CatalogFencePolicy
{
    public static CatalogStartAction Decide(string self, string persistedPrimary, bool isStandby) =>
        self == persistedPrimary || isStandby ? CatalogStartAction.StartAsIs : CatalogStartAction.RejoinAsStandby;
}
