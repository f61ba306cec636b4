using ControlPlane.Bench.Anchors;
using Xunit;

namespace ControlPlane.Tests.Bench;

/// <summary>The pure parts of the <c>failover-anchors</c> benchmark: reading <c>/proc</c>, the per-cell statistics, counting moves of the writes.</summary>
public sealed class FailoverAnchorsTests
{
    [Theory]
    [InlineData("1234 (postgres) S 1200 1234 1234 0 -1 4194560", 1200)]
    // pg_autoctl renames its helpers: spaces and parentheses in the command name must not shift the fields.
    [InlineData("77 (pg_autoctl: node (active)) S 42 77 77 0 -1", 42)]
    [InlineData("5 (a b c) R 1 5 5", 1)]
    public void The_parent_pid_is_read_after_the_last_parenthesis(string stat, int parent) =>
        Assert.Equal(parent, ProcessTree.ParentOf(stat));

    [Theory]
    [InlineData("")]
    [InlineData("no parenthesis here")]
    [InlineData("12 (x)")]
    [InlineData("12 (x) S notanumber")]
    public void A_line_that_is_not_a_stat_line_has_no_parent(string stat) => Assert.Null(ProcessTree.ParentOf(stat));

    [Fact]
    public void The_run_marker_must_match_a_whole_variable()
    {
        const string environ = "HOME=/tmp\0CONTROLPLANE_BENCH_ANCHORS_RUN=abc\0PATH=/usr/bin\0";
        Assert.True(ProcessTree.EnvironmentHas(environ, "CONTROLPLANE_BENCH_ANCHORS_RUN", "abc"));
        Assert.False(ProcessTree.EnvironmentHas(environ, "CONTROLPLANE_BENCH_ANCHORS_RUN", "ab"));
        Assert.False(ProcessTree.EnvironmentHas("X_CONTROLPLANE_BENCH_ANCHORS_RUN=abc\0", "CONTROLPLANE_BENCH_ANCHORS_RUN", "abc"));
        Assert.False(ProcessTree.EnvironmentHas("", "CONTROLPLANE_BENCH_ANCHORS_RUN", "abc"));
    }

    [Fact]
    public void A_cell_summarises_only_the_trials_with_a_figure_and_takes_the_nearest_rank_median()
    {
        var cell = AnchorCell.Of([3000.0, null, 1000.0, 2000.0, 9000.0]);
        Assert.Equal(5, cell.Trials);
        Assert.Equal(4, cell.Measured);
        // Nearest rank over four: the 2nd smallest.
        Assert.Equal(2000.0, cell.MedianMs);
        Assert.Equal(1000.0, cell.MinMs);
        Assert.Equal(9000.0, cell.MaxMs);
        Assert.Equal("2.00 s (1.00–9.00, 4/5)", cell.Render());
    }

    [Fact]
    public void A_cell_without_any_figure_says_so()
    {
        var cell = AnchorCell.Of([null, null]);
        Assert.Null(cell.MedianMs);
        Assert.Equal("none of 2", cell.Render());
    }

    [Theory]
    [InlineData(new int[0], 0)]
    [InlineData(new[] { 5432 }, 0)]
    [InlineData(new[] { 5432, 5432, 5432 }, 0)]
    [InlineData(new[] { 5432, 5433, 5433 }, 1)]
    // A failover and a failback are two moves.
    [InlineData(new[] { 5432, 5433, 5432 }, 2)]
    public void Moves_count_changes_of_the_acknowledging_node(int[] ports, int moves) => Assert.Equal(moves, AnchorRun.Moves(ports));

    [Fact]
    public void Unwritable_time_sums_only_the_gaps_longer_than_the_writers_pace_including_the_window_ends()
    {
        // Window 0..1000, gap threshold 50: writes at 10, 20 then none until 300, then 310 and silence to the end.
        Assert.Equal(280 + 690, AnchorRun.Unwritable([10, 20, 300, 310], 0, 1000, 50));
        // Writes every 10 ticks: nothing unwritable; no write at all: the whole window.
        Assert.Equal(0, AnchorRun.Unwritable([.. Enumerable.Range(0, 101).Select(i => (long)i * 10)], 0, 1000, 50));
        Assert.Equal(1000, AnchorRun.Unwritable([], 0, 1000, 50));
        // Acknowledgements outside the window are ignored.
        Assert.Equal(1000, AnchorRun.Unwritable([-5, 1005], 0, 1000, 50));
    }

    [Theory]
    [InlineData("postgres: checkpointer \0\0\0", true)]
    [InlineData("postgres: anchors: checkpointer ", true)]
    [InlineData("/usr/lib/postgresql/15/bin/postgres\0-D\0/data\0", false)]
    [InlineData("postgres: checkpointerx", false)]
    public void A_process_title_is_matched_as_a_word(string cmdline, bool matches) =>
        Assert.Equal(matches, ProcessTree.TitleHas(cmdline.Replace("\\0", "\0", StringComparison.Ordinal), "checkpointer"));
}

/// <summary>The <c>failover-anchors</c> command's own arguments: refused with a message before anything starts.</summary>
public sealed class FailoverAnchorsCommandTests
{
    [Theory]
    [InlineData("h")]
    [InlineData("a,ab")]
    [InlineData(",")]
    public async Task Unknown_scenarios_are_refused_naming_the_letters(string scenarios) =>
        Assert.Contains("--scenarios: expected a comma-separated subset of a,b,c,d,e,f,g", await RefusedAsync("--scenarios", scenarios), StringComparison.Ordinal);

    [Theory]
    [InlineData("0s")]
    [InlineData("100ms")]
    [InlineData("11m")]
    public async Task A_crash_interval_out_of_range_is_refused_before_anything_starts(string interval) =>
        Assert.Contains("--crash-interval: expected 500ms to 10m", await RefusedAsync("--crash-interval", interval), StringComparison.Ordinal);

    /// <summary>Runs the command with one argument; asserts it was refused as usage and created nothing; returns stderr.</summary>
    private static async Task<string> RefusedAsync(string option, string value)
    {
        var work = Path.Combine(Path.GetTempPath(), "cp-anchors-args-" + Guid.NewGuid().ToString("N")[..8]);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await AnchorsCommand.Create(stdout, stderr).Parse(["--work-dir", work, option, value]).InvokeAsync();
        Assert.Equal(ControlPlane.Bench.ExitCodes.Usage, exit);
        Assert.False(Directory.Exists(work), "the work directory was created although the arguments were refused");
        return stderr.ToString();
    }

    [Fact]
    public void A_settings_without_scenarios_runs_every_one_and_a_chosen_set_only_those()
    {
        var all = new AnchorsSettings("/tmp/x", null, ["ours"], 1, 0, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), null, false);
        Assert.All(AnchorsSettings.AllScenarios, s => Assert.True(all.Runs(s)));
        var e = all with { Scenarios = ['e'] };
        Assert.True(e.Runs('e'));
        Assert.False(e.Runs('a'));
        // Only a run with the full-disk scenario puts the nodes on disks of their own.
        Assert.Equal(0, e.NodeDiskBytes);
        Assert.Equal(SmallDisks.DefaultBytes, all.NodeDiskBytes);
        Assert.Equal(TimeSpan.FromSeconds(3), all.CrashEvery);
    }
}
