using ControlPlane.Grains.Fleet;
using Microsoft.Extensions.Options;

namespace ControlPlane.Grains.Parity;

/// <summary>
/// The stored snapshots of one target, in the catalog's grain storage. A snapshot is persisted before it is answered:
/// a caller told "snapshot 7" can always read snapshot 7 back (until it is the oldest of more than MaxSnapshots).
/// </summary>
public sealed class ParityHistoryGrain(
    [PersistentState("parity-history", FleetKeys.Storage)] IPersistentState<ParityHistoryState> state,
    IOptions<ParityOptions> options) : Grain, IParityHistoryGrain
{
    private readonly int _max = options.Value.MaxSnapshots;

    public async Task<StoredSchemaSnapshot> Store(string json, string hash, int objects, string principal)
    {
        var stored = ParityHistory.Append(state.State, json, hash, objects, principal, DateTimeOffset.UtcNow, _max);
        await state.WriteStateAsync();
        return stored;
    }

    public Task<SchemaSnapshotPage> List(int skip, int take)
    {
        var snapshots = state.State.Snapshots;
        var page = Enumerable.Range(0, snapshots.Count).Select(i => snapshots[snapshots.Count - 1 - i]).Skip(Math.Max(0, skip)).Take(Math.Max(0, take)).ToList();
        return Task.FromResult(new SchemaSnapshotPage(page, snapshots.Count));
    }

    public Task<StoredSchemaContent?> Get(long sequence)
    {
        var stored = state.State.Snapshots.FirstOrDefault(s => s.Sequence == sequence);
        return Task.FromResult(stored is not null && state.State.Contents.TryGetValue(stored.Hash, out var json)
            ? new StoredSchemaContent(stored, json)
            : null);
    }
}

/// <summary>How a target's history grows, pure: numbered in order, one copy of the JSON per distinct hash, the oldest dropped beyond the cap.</summary>
public static class ParityHistory
{
    public static StoredSchemaSnapshot Append(ParityHistoryState history, string json, string hash, int objects, string principal, DateTimeOffset at, int max)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentException.ThrowIfNullOrEmpty(json);
        ArgumentException.ThrowIfNullOrEmpty(hash);
        var changed = history.Snapshots.Count == 0 || history.Snapshots[^1].Hash != hash;
        var stored = new StoredSchemaSnapshot(history.LastSequence + 1, at, hash, principal, objects, changed);
        history.Snapshots.Add(stored);
        history.Contents[hash] = json;
        history.LastSequence = stored.Sequence;
        if (history.Snapshots.Count > max) history.Snapshots.RemoveRange(0, history.Snapshots.Count - max);
        foreach (var unused in history.Contents.Keys.Where(h => history.Snapshots.All(s => s.Hash != h)).ToList()) history.Contents.Remove(unused);
        return stored;
    }
}
