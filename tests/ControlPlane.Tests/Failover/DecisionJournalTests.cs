using ControlPlane.Grains.Failover;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Failover;

/// <summary>The local journal of decisions taken while the catalog was unreachable.</summary>
public sealed class DecisionJournalTests
{
    private static readonly Gen<JournalEntry> EntryGen =
        Gen.Select(Gen.Long[1, 8], Gen.Long[1, 20], Gen.Int[0, 2], Gen.Int[0, 3], (sequence, term, primary, outcome) =>
            new JournalEntry(term, $"r{primary}", Decision(sequence, term, $"r{primary}", (DecisionOutcome)outcome)));

    [Fact]
    public void Replaying_a_journal_twice_over_is_the_same_as_replaying_it_once() =>
        EntryGen.List[0, 10].Sample(entries =>
        {
            var lines = entries.Select(DecisionJournal.Serialize).ToList();
            var once = DecisionJournal.Replay(lines);
            var twice = DecisionJournal.Replay([.. lines, .. lines]);
            Assert.Equal(once.Tier, twice.Tier);
            Assert.Equal(once.Decisions.Select(d => d.Sequence), twice.Decisions.Select(d => d.Sequence));
        });

    [Fact]
    public void Merging_a_journal_never_lowers_the_term_and_is_idempotent() =>
        Gen.Select(EntryGen.List[0, 10], Gen.Long[1, 20], Gen.Long[0, 8]).Sample((entries, catalogTerm, lastDecision) =>
        {
            var replay = DecisionJournal.Replay(entries.Select(DecisionJournal.Serialize));
            var catalog = new TierTerm(catalogTerm, "r0");
            var first = DecisionJournal.Merge(catalog, lastDecision, [], replay);
            Assert.True(first.Tier.Term >= catalogTerm);
            Assert.All(entries, e => Assert.True(first.Tier.Term >= e.Term));
            Assert.True(first.LastDecision >= lastDecision);
            var again = DecisionJournal.Merge(first.Tier, first.LastDecision, first.Decisions, replay);
            Assert.Equal(first.Tier, again.Tier);
            Assert.Equal(first.LastDecision, again.LastDecision);
            Assert.Equal(first.Decisions.Select(d => (d.Sequence, d.Outcome)), again.Decisions.Select(d => (d.Sequence, d.Outcome)));
        });

    [Fact]
    public void A_later_line_for_a_decision_records_its_outcome()
    {
        var decided = new JournalEntry(4, "b", Decision(10, 4, "b", DecisionOutcome.Decided));
        var completed = decided with { Decision = decided.Decision with { Outcome = DecisionOutcome.Completed } };
        var replay = DecisionJournal.Replay([DecisionJournal.Serialize(decided), DecisionJournal.Serialize(completed)]);
        Assert.Equal(DecisionOutcome.Completed, Assert.Single(replay.Decisions).Outcome);
        Assert.Equal(new TierTerm(4, "b"), replay.Tier);
    }

    [Fact]
    public void The_torn_tail_of_a_crash_mid_append_is_skipped()
    {
        var whole = DecisionJournal.Serialize(new JournalEntry(4, "b", Decision(10, 4, "b", DecisionOutcome.Decided)));
        var replay = DecisionJournal.Replay([whole, whole[..(whole.Length / 2)]]);
        Assert.Equal(new TierTerm(4, "b"), replay.Tier);
        Assert.Single(replay.Decisions);
    }

    [Fact]
    public void The_journal_on_disk_survives_a_reopen_and_is_gone_once_cleared()
    {
        var directory = Path.Combine(Path.GetTempPath(), "cp-journal-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var journal = new DecisionJournal(directory);
            journal.Append("local/oltp", new JournalEntry(3, "oltp-1", Decision(5, 3, "oltp-1", DecisionOutcome.Decided)));
            journal.Append("local/oltp", new JournalEntry(3, "oltp-1", Decision(5, 3, "oltp-1", DecisionOutcome.Completed)));
            var replay = new DecisionJournal(directory).Read("local/oltp");
            Assert.Equal(new TierTerm(3, "oltp-1"), replay.Tier);
            Assert.Equal(DecisionOutcome.Completed, Assert.Single(replay.Decisions).Outcome);
            Assert.Null(journal.Read("local/content").Tier);
            journal.Clear("local/oltp");
            Assert.Same(JournalReplay.Empty, journal.Read("local/oltp"));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    private static DecisionRecord Decision(long sequence, long term, string primary, DecisionOutcome outcome) =>
        new(sequence, DateTimeOffset.UnixEpoch, DecisionKind.AutomaticFailover, term, "old", primary, "test", ["evidence"], "controlplane", null,
            outcome, ["step"], null);
}
