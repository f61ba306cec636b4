using ControlPlane.Grains.Monitoring;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Monitoring;

/// <summary>The alert state machine over random reading sequences of a few sources.</summary>
public sealed class AlertPolicyPropertyTests
{
    private static readonly string[] Replicas = ["oltp-1", "oltp-2", "oltp-3"];

    /// <summary>Readings a few seconds apart, values around the threshold, for random sources; and a for-duration.</summary>
    private static readonly Gen<(int ForSeconds, List<(int Gap, int Replica, int Value)> Steps)> CaseGen =
        Gen.Select(Gen.Int[0, 60], Gen.Select(Gen.Int[0, 20], Gen.Int[0, 2], Gen.Int[0, 2]).List[0, 60]);

    private static List<AlertEvaluation> Run(int forSeconds, List<(int Gap, int Replica, int Value)> steps, AlertSilence[]? silences = null)
    {
        var rule = AlertPolicyTests.Blocked with { For = TimeSpan.FromSeconds(forSeconds) };
        var at = AlertPolicyTests.T0;
        var current = new AlertEvaluation([], [], 0);
        var all = new List<AlertEvaluation>();
        foreach (var (gap, replica, value) in steps)
        {
            at = at.AddSeconds(gap);
            current = AlertPolicy.Evaluate([rule], [AlertPolicyTests.Reading(value, at, Replicas[replica])], current.Active, silences ?? [], current.LastVersion, at);
            all.Add(current);
        }
        return all;
    }

    [Fact]
    public void Each_alert_alternates_fired_and_resolved_starting_with_fired() =>
        CaseGen.Sample(c =>
        {
            var events = Run(c.ForSeconds, c.Steps).SelectMany(e => e.Events);
            foreach (var perKey in events.GroupBy(e => e.Key))
            {
                var phases = perKey.Select(e => e.Phase).ToList();
                for (var i = 0; i < phases.Count; i++) Assert.Equal(i % 2 == 0 ? AlertPhase.Firing : AlertPhase.Resolved, phases[i]);
            }
        });

    [Fact]
    public void An_alert_fires_only_after_its_breach_has_held_for_the_for_duration() =>
        CaseGen.Sample(c =>
        {
            foreach (var fired in Run(c.ForSeconds, c.Steps).SelectMany(e => e.Events).Where(e => e.Phase == AlertPhase.Firing))
                Assert.True(fired.At - fired.StartedAt >= TimeSpan.FromSeconds(c.ForSeconds));
        });

    [Fact]
    public void Event_versions_increase_by_one_without_gaps() =>
        CaseGen.Sample(c =>
        {
            var versions = Run(c.ForSeconds, c.Steps).SelectMany(e => e.Events).Select(e => e.Version).ToList();
            Assert.Equal(Enumerable.Range(1, versions.Count).Select(v => (long)v), versions);
        });

    [Fact]
    public void At_most_one_alert_is_tracked_per_rule_and_labels() =>
        CaseGen.Sample(c =>
        {
            foreach (var step in Run(c.ForSeconds, c.Steps))
                Assert.Equal(step.Active.Count, step.Active.Select(a => a.Key).Distinct().Count());
        });

    [Fact]
    public void Silences_change_no_state_only_the_silenced_mark() =>
        CaseGen.Sample(c =>
        {
            var silence = new AlertSilence("s", new Dictionary<string, string> { ["replica"] = "oltp-2" },
                AlertPolicyTests.T0, AlertPolicyTests.T0.AddDays(1), "", "test");
            var plain = Run(c.ForSeconds, c.Steps);
            var silenced = Run(c.ForSeconds, c.Steps, [silence]);
            Assert.Equal(plain.Select(p => p.Active.Count), silenced.Select(s => s.Active.Count));
            var pairs = plain.SelectMany(p => p.Events).Zip(silenced.SelectMany(s => s.Events));
            foreach (var (a, b) in pairs)
            {
                Assert.Equal(a with { Silenced = false }, b with { Silenced = false });
                Assert.Equal(b.Key.Label("replica") == "oltp-2", b.Silenced);
            }
        });
}
