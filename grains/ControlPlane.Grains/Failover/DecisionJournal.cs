using System.Text;
using System.Text.Json;

namespace ControlPlane.Grains.Failover;

/// <summary>One line of a tier's decision journal: the decision and the tier's term and primary once it is taken.</summary>
public sealed record JournalEntry(long Term, string Primary, DecisionRecord Decision);

/// <summary>What a journal says once replayed: the latest term and primary, and the decisions by sequence.</summary>
public sealed record JournalReplay(TierTerm? Tier, IReadOnlyList<DecisionRecord> Decisions)
{
    public static readonly JournalReplay Empty = new(null, []);
}

/// <summary>
/// A tier's decisions taken while the catalog was unreachable, kept on the silo's own disk: appended and fsynced
/// before the decision is acted on, replayed into the tier's state when it activates (the catalog may not hold
/// them), and deleted once the catalog holds them again. Replay and merge are pure and idempotent: the same line
/// read twice, or a journal merged twice, changes nothing.
/// </summary>
public sealed class DecisionJournal(string directory)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    public string Directory { get; } = directory;

    /// <summary>The journal file of a tier key (env/tier), with the key made file-name safe.</summary>
    public string PathOf(string tierKey) =>
        Path.Combine(Directory, string.Concat(tierKey.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '.')) + ".journal");

    /// <summary>Appends one entry and fsyncs it: when this returns, the decision survives a crash of the silo.</summary>
    public void Append(string tierKey, JournalEntry entry)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var line = Encoding.UTF8.GetBytes(Serialize(entry) + "\n");
        using var file = new FileStream(PathOf(tierKey), FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.WriteThrough);
        file.Write(line);
        file.Flush(flushToDisk: true);
    }

    /// <summary>The journal of a tier, replayed; empty when there is none.</summary>
    public JournalReplay Read(string tierKey)
    {
        var path = PathOf(tierKey);
        return File.Exists(path) ? Replay(File.ReadAllLines(path)) : JournalReplay.Empty;
    }

    /// <summary>Forgets a tier's journal once the catalog holds everything in it.</summary>
    public void Clear(string tierKey) => File.Delete(PathOf(tierKey));

    public static string Serialize(JournalEntry entry) => JsonSerializer.Serialize(entry, Json);

    /// <summary>
    /// Replays journal lines in order. A line that does not parse (the torn tail of a crash mid-append) is skipped.
    /// The highest term wins (the later line on a tie); a later line for a sequence replaces an earlier one, which is
    /// how a decision's outcome is recorded after the decision itself.
    /// </summary>
    public static JournalReplay Replay(IEnumerable<string> lines)
    {
        TierTerm? tier = null;
        var decisions = new SortedDictionary<long, DecisionRecord>();
        foreach (var line in lines)
        {
            if (Parse(line) is not { } entry) continue;
            if (tier is null || entry.Term >= tier.Term) tier = new TierTerm(entry.Term, entry.Primary);
            decisions[entry.Decision.Sequence] = entry.Decision;
        }
        return new JournalReplay(tier, decisions.Values.ToList());
    }

    /// <summary>
    /// Merges a replayed journal into the state read from the catalog. The term only goes up; the journal's version
    /// of a decision replaces the catalog's (it was written later, by the activation that acted on it).
    /// </summary>
    public static (TierTerm Tier, long LastDecision, IReadOnlyList<DecisionRecord> Decisions) Merge(
        TierTerm catalog, long lastDecision, IReadOnlyList<DecisionRecord> decisions, JournalReplay journal)
    {
        var tier = journal.Tier is { } j ? TermFence.Reconcile(catalog, [j]) : catalog;
        var merged = new SortedDictionary<long, DecisionRecord>();
        foreach (var d in decisions) merged[d.Sequence] = d;
        foreach (var d in journal.Decisions) merged[d.Sequence] = d;
        var last = merged.Count == 0 ? lastDecision : Math.Max(lastDecision, merged.Keys.Max());
        return (tier, last, merged.Values.ToList());
    }

    private static JournalEntry? Parse(string line)
    {
        if (string.IsNullOrWhiteSpace(line)) return null;
        try
        {
            return JsonSerializer.Deserialize<JournalEntry>(line, Json) is { Primary: not null, Decision: not null } e ? e : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
