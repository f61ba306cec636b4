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
        ArgumentException.ThrowIfNullOrEmpty(json);
        ArgumentException.ThrowIfNullOrEmpty(hash);
        var history = state.State;
        var changed = history.Snapshots.Count == 0 || history.Snapshots[^1].Hash != hash;
        var stored = new StoredSchemaSnapshot(history.LastSequence + 1, DateTimeOffset.UtcNow, hash, principal, objects, changed);
        history.Snapshots.Add(stored);
        history.Contents[hash] = json;
        history.LastSequence = stored.Sequence;
        while (history.Snapshots.Count > _max) history.Snapshots.RemoveAt(0);
        foreach (var unused in history.Contents.Keys.Where(h => history.Snapshots.All(s => s.Hash != h)).ToList()) history.Contents.Remove(unused);
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
