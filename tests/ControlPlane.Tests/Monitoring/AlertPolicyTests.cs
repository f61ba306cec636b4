using ControlPlane.Grains.Monitoring;
using Xunit;

namespace ControlPlane.Tests.Monitoring;

/// <summary>The alert state machine on hand-picked timelines.</summary>
public sealed class AlertPolicyTests
{
    internal static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    internal static readonly AlertRule Blocked = new("Blocked", MonitoringMetrics.BlockedSessions, AlertComparison.Above, 0, TimeSpan.FromSeconds(30),
        AlertSeverity.Warning, new Dictionary<string, string> { ["team"] = "db" }, "docs/monitoring.md#blocked", "blocked sessions");

    internal static MetricObservation Reading(double value, DateTimeOffset at, string replica = "oltp-1") =>
        new(MonitoringMetrics.BlockedSessions, new Dictionary<string, string> { ["environment"] = "local", ["tier"] = "oltp", ["replica"] = replica }, value, at);

    private static AlertEvaluation Step(AlertEvaluation before, MetricObservation reading, params AlertSilence[] silences) =>
        AlertPolicy.Evaluate([Blocked], [reading], before.Active, silences, before.LastVersion, reading.At);

    private static readonly AlertEvaluation Empty = new([], [], 0);

    [Fact]
    public void A_breach_is_pending_until_it_has_held_for_the_rules_for_duration()
    {
        var first = Step(Empty, Reading(2, T0));
        Assert.Equal(AlertPhase.Pending, Assert.Single(first.Active).Phase);
        Assert.Empty(first.Events);
        var early = Step(first, Reading(2, T0.AddSeconds(29)));
        Assert.Equal(AlertPhase.Pending, Assert.Single(early.Active).Phase);
        var held = Step(early, Reading(3, T0.AddSeconds(30)));
        var fired = Assert.Single(held.Events);
        Assert.Equal(AlertPhase.Firing, fired.Phase);
        Assert.Equal(T0, fired.StartedAt);
        Assert.Equal(3, fired.Value);
    }

    [Fact]
    public void A_firing_alert_resolves_once_when_its_metric_is_no_longer_breached()
    {
        var firing = Step(Step(Empty, Reading(1, T0)), Reading(1, T0.AddMinutes(1)));
        var resolved = Step(firing, Reading(0, T0.AddMinutes(2)));
        Assert.Equal(AlertPhase.Resolved, Assert.Single(resolved.Events).Phase);
        Assert.Empty(resolved.Active);
        Assert.Empty(Step(resolved, Reading(0, T0.AddMinutes(3))).Events);
    }

    [Fact]
    public void A_pending_alert_that_clears_leaves_no_event()
    {
        var pending = Step(Empty, Reading(1, T0));
        var cleared = Step(pending, Reading(0, T0.AddSeconds(10)));
        Assert.Empty(cleared.Events);
        Assert.Empty(cleared.Active);
    }

    [Fact]
    public void The_alert_identity_is_the_rule_plus_the_source_and_rule_labels()
    {
        var firing = AlertPolicy.Evaluate([Blocked with { For = TimeSpan.Zero }], [Reading(1, T0, "oltp-1"), Reading(1, T0, "oltp-2")], [], [], 0, T0);
        Assert.Equal(2, firing.Events.Count);
        Assert.Equal("Blocked{environment=\"local\",replica=\"oltp-1\",team=\"db\",tier=\"oltp\"}", firing.Events[0].Key.Fingerprint);
        Assert.Equal(1, firing.Events[0].Version);
        Assert.Equal(2, firing.Events[1].Version);
    }

    [Fact]
    public void A_silence_marks_the_events_it_matches_without_changing_the_state()
    {
        var silence = new AlertSilence("s1", new Dictionary<string, string> { ["alertname"] = "Blocked", ["replica"] = "oltp-1" },
            T0, T0.AddHours(1), "maintenance", "test");
        var firing = AlertPolicy.Evaluate([Blocked with { For = TimeSpan.Zero }], [Reading(1, T0, "oltp-1"), Reading(1, T0, "oltp-2")], [], [silence], 0, T0);
        Assert.True(firing.Events.Single(e => e.Key.Label("replica") == "oltp-1").Silenced);
        Assert.False(firing.Events.Single(e => e.Key.Label("replica") == "oltp-2").Silenced);
        Assert.Equal(2, firing.Active.Count(a => a.Phase == AlertPhase.Firing));
    }

    [Fact]
    public void A_silence_no_longer_applies_after_it_ends()
    {
        var silence = new AlertSilence("s1", new Dictionary<string, string> { ["alertname"] = "Blocked" }, T0, T0.AddMinutes(1), "", "test");
        var later = AlertPolicy.Evaluate([Blocked with { For = TimeSpan.Zero }], [Reading(1, T0.AddMinutes(2))], [], [silence], 0, T0.AddMinutes(2));
        Assert.False(Assert.Single(later.Events).Silenced);
    }

    [Fact]
    public void Removing_a_rule_resolves_its_firing_alerts()
    {
        var firing = AlertPolicy.Evaluate([Blocked with { For = TimeSpan.Zero }], [Reading(1, T0)], [], [], 0, T0);
        var after = AlertPolicy.Evaluate([], [], firing.Active, [], firing.LastVersion, T0.AddSeconds(5));
        Assert.Equal(AlertPhase.Resolved, Assert.Single(after.Events).Phase);
        Assert.Empty(after.Active);
    }

    [Fact]
    public void A_metric_not_read_in_an_evaluation_leaves_its_alerts_as_they_are()
    {
        var firing = AlertPolicy.Evaluate([Blocked with { For = TimeSpan.Zero }], [Reading(1, T0)], [], [], 0, T0);
        var quiet = AlertPolicy.Evaluate([Blocked with { For = TimeSpan.Zero }], [], firing.Active, [], firing.LastVersion, T0.AddMinutes(5));
        Assert.Empty(quiet.Events);
        Assert.Equal(firing.Active, quiet.Active);
    }
}
