using ControlPlane.Silo.Catalog;
using Xunit;

namespace ControlPlane.Tests.Catalog;

public sealed class CatalogRestartPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly CrashLoopRule Rule = new(3, TimeSpan.FromMinutes(10));

    private static CatalogObservation Alive() => new(PostmasterExists: true, WasAlive: true, FailedRestarts: 0, LastAttempt: null);

    private static CatalogObservation Gone(bool wasAlive = true, int failed = 0, DateTimeOffset? last = null) => new(false, wasAlive, failed, last);

    [Fact]
    public void A_live_postmaster_is_never_restarted()
    {
        var verdict = CatalogRestartPolicy.Decide(Alive(), [], Now, Rule);
        Assert.Equal(CatalogAction.None, verdict.Action);
        Assert.False(verdict.NewCrash);
    }

    [Fact]
    public void A_stopped_postmaster_counts_as_existing_and_is_left_alone_even_in_a_crash_loop()
    {
        // SIGSTOP leaves the process in place: PostmasterExists is true, whatever the reachability checks say.
        var crashes = new[] { Now.AddMinutes(-3), Now.AddMinutes(-2), Now.AddMinutes(-1) };
        var verdict = CatalogRestartPolicy.Decide(Alive(), crashes, Now, Rule);
        Assert.Equal(CatalogAction.None, verdict.Action);
        Assert.True(verdict.CrashLoop);
    }

    [Fact]
    public void A_vanished_postmaster_is_restarted_and_counted_as_one_crash()
    {
        var verdict = CatalogRestartPolicy.Decide(Gone(), [], Now, Rule);
        Assert.Equal(CatalogAction.Restart, verdict.Action);
        Assert.True(verdict.NewCrash);
        Assert.Equal([Now], verdict.Crashes);
        Assert.False(verdict.CrashLoop);
    }

    [Fact]
    public void A_failed_restart_is_retried_after_its_backoff_without_counting_another_crash()
    {
        var waiting = CatalogRestartPolicy.Decide(Gone(wasAlive: false, failed: 1, last: Now.AddMilliseconds(-500)), [Now.AddSeconds(-2)], Now, Rule);
        Assert.Equal(CatalogAction.Wait, waiting.Action);
        Assert.False(waiting.NewCrash);
        Assert.Single(waiting.Crashes);

        var retry = CatalogRestartPolicy.Decide(Gone(wasAlive: false, failed: 1, last: Now.AddSeconds(-1)), [Now.AddSeconds(-2)], Now, Rule);
        Assert.Equal(CatalogAction.Restart, retry.Action);
        Assert.Single(retry.Crashes);
    }

    [Fact]
    public void Backoff_doubles_from_one_second_and_stops_at_thirty()
    {
        Assert.Equal(TimeSpan.Zero, CatalogRestartPolicy.Backoff(0));
        Assert.Equal(TimeSpan.FromSeconds(1), CatalogRestartPolicy.Backoff(1));
        Assert.Equal(TimeSpan.FromSeconds(2), CatalogRestartPolicy.Backoff(2));
        Assert.Equal(TimeSpan.FromSeconds(16), CatalogRestartPolicy.Backoff(5));
        Assert.Equal(TimeSpan.FromSeconds(30), CatalogRestartPolicy.Backoff(6));
        Assert.Equal(TimeSpan.FromSeconds(30), CatalogRestartPolicy.Backoff(1000));
    }

    [Fact]
    public void The_third_crash_within_the_window_raises_the_crash_loop_alert()
    {
        var two = new[] { Now.AddMinutes(-9), Now.AddMinutes(-1) };
        var verdict = CatalogRestartPolicy.Decide(Gone(), two, Now, Rule);
        Assert.Equal(CatalogAction.Restart, verdict.Action);
        Assert.True(verdict.CrashLoop);
        Assert.Equal(3, verdict.Crashes.Count);
    }

    [Fact]
    public void Crashes_older_than_the_window_are_forgotten_and_the_alert_clears()
    {
        var old = new[] { Now.AddMinutes(-30), Now.AddMinutes(-20), Now.AddMinutes(-11) };
        var verdict = CatalogRestartPolicy.Decide(Alive(), old, Now, Rule);
        Assert.Empty(verdict.Crashes);
        Assert.False(verdict.CrashLoop);

        var oneNew = CatalogRestartPolicy.Decide(Gone(), old, Now, Rule);
        Assert.False(oneNew.CrashLoop);
        Assert.Equal([Now], oneNew.Crashes);
    }
}
