using ControlPlane.Grains.Changes;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Changes;

/// <summary>The change workflow's decisions: batching, approval, and the rollout driven step by step from its state.</summary>
public sealed class ChangeRolloutPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Gen<ChangeStrategy> StrategyGen =
        Gen.Select(Gen.Int[0, 5], Gen.Int[1, 20], (canary, batch) => ChangeStrategy.Default with { CanaryTargets = canary, BatchSize = batch });

    [Fact]
    public void Batches_put_the_canaries_first_then_batches_of_at_most_the_batch_size_in_target_order()
    {
        Gen.Select(Gen.Int[0, 200], StrategyGen).Sample((targets, strategy) =>
        {
            var batches = ChangeRolloutPolicy.Batches(targets, strategy);
            Assert.Equal(targets, batches.Count);
            for (var i = 1; i < batches.Count; i++) Assert.InRange(batches[i] - batches[i - 1], 0, 1);
            if (targets > 0) Assert.Equal(0, batches[0]);
            var canaries = Math.Min(strategy.CanaryTargets, targets);
            Assert.Equal(canaries > 0 ? canaries : Math.Min(strategy.BatchSize, targets), batches.Count(b => b == 0));
            foreach (var group in batches.Where(b => b > 0 || canaries == 0).GroupBy(b => b)) Assert.True(group.Count() <= strategy.BatchSize);
        });
    }

    /// <summary>
    /// Drives the policy as the grain does, with targets that fail at random and a crash at random (the results of a
    /// run are lost before they are persisted, so the same targets run again): a version is applied to a target at
    /// most once, the rollout halts at the first failure without touching a later batch, and otherwise completes with
    /// every target applied.
    /// </summary>
    [Fact]
    public void A_rollout_driven_by_the_policy_applies_each_target_at_most_once_and_halts_on_the_first_failure()
    {
        Gen.Select(Gen.Int[1, 60], StrategyGen, Gen.Int[0, 100].Array[60], Gen.Bool.Array[200]).Sample((count, strategy, failAt, crashes) =>
        {
            var numbers = ChangeRolloutPolicy.Batches(count, strategy);
            var targets = Enumerable.Range(0, count).Select(i => new ChangeTarget($"t{i}", ChangeTargetState.Pending, [1], [], Batch: numbers[i])).ToList();
            var batches = numbers.Max() + 1;
            var applied = new int[count];
            var history = new HashSet<int>();
            var batch = 0;
            var crash = 0;
            RolloutStep step;
            var turns = 0;
            while ((step = ChangeRolloutPolicy.Next(ChangeDirection.Forward, targets, batch, batches)).Kind is RolloutStepKind.Run or RolloutStepKind.Advance)
            {
                Assert.True(++turns < 10_000, "the rollout never ends");
                if (step.Kind == RolloutStepKind.Advance)
                {
                    batch++;
                    continue;
                }
                Assert.All(step.Targets, s => Assert.Equal(batch, targets[Index(s)].Batch));
                var lost = crashes[crash++ % crashes.Length];
                foreach (var schema in step.Targets)
                {
                    var i = Index(schema);
                    var fails = failAt[i] < 3;
                    // The applier checks the target's history in the version's transaction: a repeat runs nothing.
                    if (!fails && history.Add(i)) applied[i]++;
                    if (!lost) targets[i] = targets[i] with { State = fails ? ChangeTargetState.Failed : ChangeTargetState.Applied, Applied = fails ? [] : [1] };
                    else targets[i] = targets[i] with { State = ChangeTargetState.Applying };
                }
            }
            Assert.All(applied, n => Assert.InRange(n, 0, 1));
            var failed = Enumerable.Range(0, count).Where(i => failAt[i] < 3).ToList();
            if (failed.Count == 0)
            {
                Assert.Equal(RolloutStepKind.Complete, step.Kind);
                Assert.All(targets, t => Assert.Equal(ChangeTargetState.Applied, t.State));
            }
            else
            {
                Assert.Equal(RolloutStepKind.Halt, step.Kind);
                var haltedBatch = numbers[failed[0]];
                Assert.All(Enumerable.Range(0, count).Where(i => numbers[i] > haltedBatch), i => Assert.Equal(0, applied[i]));
            }
        });
    }

    [Fact]
    public void A_rollback_undoes_every_target_that_applied_something_and_then_completes()
    {
        var targets = new List<ChangeTarget>
        {
            new("a", ChangeTargetState.Applied, [], [1, 2]),
            new("b", ChangeTargetState.Pending, [1, 2], []),
            new("c", ChangeTargetState.Blocked, [], []),
            new("d", ChangeTargetState.RollingBack, [], [1]),
        };
        var step = ChangeRolloutPolicy.Next(ChangeDirection.Back, targets, 0, 1);
        Assert.Equal(RolloutStepKind.Run, step.Kind);
        Assert.Equal(["a", "d"], step.Targets);
        var undone = targets.Select(t => t with { State = ChangeTargetState.RolledBack, Applied = [] }).ToList();
        Assert.Equal(RolloutStepKind.Complete, ChangeRolloutPolicy.Next(ChangeDirection.Back, undone, 0, 1).Kind);
    }

    [Fact]
    public void The_author_can_never_approve_their_own_change()
    {
        Gen.Select(Gen.String[1, 10], Gen.Int[0, 3], Gen.String).Sample((author, errors, waiver) =>
        {
            var decision = ChangeRolloutPolicy.Approve(ChangePhase.Submitted, author, author, [], errors, waiver);
            Assert.Equal(ChangeRefusal.Denied, decision.Refusal);
            Assert.Contains("author", decision.Reason, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Lint_errors_block_approval_unless_waived_with_a_reason()
    {
        Assert.Equal(ChangeRefusal.Precondition, ChangeRolloutPolicy.Approve(ChangePhase.Submitted, "alice", "bob", [], 2, " ").Refusal);
        Assert.True(ChangeRolloutPolicy.Approve(ChangePhase.Submitted, "alice", "bob", [], 2, "table is empty on every tenant").Allowed);
        Assert.True(ChangeRolloutPolicy.Approve(ChangePhase.Submitted, "alice", "bob", [], 0, "").Allowed);
    }

    [Fact]
    public void An_operator_approves_a_change_once()
    {
        var decision = ChangeRolloutPolicy.Approve(ChangePhase.Submitted, "alice", "bob", [new ChangeApproval("bob", T0)], 0, "");
        Assert.Equal(ChangeRefusal.Precondition, decision.Refusal);
    }

    [Fact]
    public void An_unapproved_change_cannot_roll_out_and_an_approved_one_can()
    {
        var refused = ChangeRolloutPolicy.Rollout(ChangePhase.Submitted, 1, 2);
        Assert.Equal(ChangeRefusal.Precondition, refused.Refusal);
        Assert.Contains("1 of 2", refused.Reason, StringComparison.Ordinal);
        Assert.True(ChangeRolloutPolicy.Rollout(ChangePhase.Approved, 2, 2).Allowed);
        Assert.False(ChangeRolloutPolicy.Rollout(ChangePhase.RollingOut, 2, 2).Allowed);
    }

    [Fact]
    public void Rollback_is_refused_while_running_or_when_an_applied_version_has_no_undo()
    {
        Assert.False(ChangeRolloutPolicy.Rollback(ChangePhase.RollingOut, []).Allowed);
        var noUndo = ChangeRolloutPolicy.Rollback(ChangePhase.Completed, [3]);
        Assert.False(noUndo.Allowed);
        Assert.Contains("3", noUndo.Reason, StringComparison.Ordinal);
        Assert.True(ChangeRolloutPolicy.Rollback(ChangePhase.Halted, []).Allowed);
    }

    [Fact]
    public void Only_a_halted_change_resumes_and_only_a_running_one_halts()
    {
        Assert.True(ChangeRolloutPolicy.Resume(ChangePhase.Halted).Allowed);
        Assert.False(ChangeRolloutPolicy.Resume(ChangePhase.Completed).Allowed);
        Assert.True(ChangeRolloutPolicy.Halt(ChangePhase.RollingBack).Allowed);
        Assert.False(ChangeRolloutPolicy.Halt(ChangePhase.Approved).Allowed);
    }

    [Fact]
    public void Strategy_validation_names_each_field_out_of_range()
    {
        var errors = (ChangeStrategy.Default with { BatchSize = 0, Concurrency = 100 }).Validate();
        Assert.Contains(errors, e => e.StartsWith("batch_size 0", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("concurrency 100", StringComparison.Ordinal));
        Assert.Empty(ChangeStrategy.Default.Validate());
    }

    private static int Index(string schema) => int.Parse(schema[1..], System.Globalization.CultureInfo.InvariantCulture);
}
