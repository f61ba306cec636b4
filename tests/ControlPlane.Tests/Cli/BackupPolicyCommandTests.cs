using ControlPlane.Protos.V1;
using Xunit;
using static ControlPlane.Tests.Cli.CpctlRun;

namespace ControlPlane.Tests.Cli;

/// <summary><c>cpctl backup policy</c>: what reaches the server, and what never leaves the command line.</summary>
public sealed class BackupPolicyCommandTests
{
    [Fact]
    public async Task Policy_options_set_only_the_fields_given_even_when_they_equal_defaults()
    {
        await using var server = await FakeFleetServer.StartAsync();

        var (code, _, error) = await RunAsync("backup", "policy", "oltp", "--keep-last", "0", "--verify", "false",
            "--rpo-target", "500ms", "--recovery-window", "7d", "--second-repository", "", "--source", "best-standby", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        Assert.Equal("", error);
        var sent = Assert.Single(server.Backups.RequestsOf<SetBackupPolicyRequest>());
        Assert.Equal("oltp", sent.Tier);
        var p = sent.Policy;
        Assert.True(p.HasKeepLast && p.KeepLast == 0);
        Assert.True(p.HasVerify && !p.Verify);
        Assert.Equal(TimeSpan.FromMilliseconds(500), p.RpoTarget.ToTimeSpan());
        Assert.Equal(TimeSpan.FromDays(7), p.RecoveryWindow.ToTimeSpan());
        Assert.True(p.HasSecondRepository && p.SecondRepository.Length == 0);
        Assert.True(p.HasSource && p.Source == BackupSource.BestStandby);
        Assert.False(p.HasSchedule || p.HasDrillSchedule || p.HasRepository || p.HasCompression || p.HasMaxRateKbps || p.HasArchiveWal);
        Assert.Null(p.RtoTarget);
    }

    [Fact]
    public async Task Policy_without_options_reads_the_policy_and_changes_nothing()
    {
        await using var server = await FakeFleetServer.StartAsync();

        var (code, output, _) = await RunAsync("backup", "policy", "oltp", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        Assert.Single(server.Backups.RequestsOf<GetBackupPolicyRequest>());
        Assert.Empty(server.Backups.RequestsOf<SetBackupPolicyRequest>());
        Assert.Contains("/srv/backups/oltp", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--rpo-target", "5x")]
    [InlineData("--rto-target", "1h30m")]
    [InlineData("--recovery-window", "-7d")]
    [InlineData("--rpo-target", "1.5s")]
    public async Task Bad_duration_exits_2_naming_the_option_and_value_and_sends_nothing(string option, string value)
    {
        await using var server = await FakeFleetServer.StartAsync();

        var (code, _, error) = await RunAsync("backup", "policy", "oltp", option, value, "--endpoint", server.Endpoint);

        Assert.Equal(2, code);
        Assert.Contains($"error: {option} '{value}' is not a duration; expected a whole number and a unit ms, s, m, h or d", error, StringComparison.Ordinal);
        Assert.Empty(server.Backups.Received);
    }

    [Theory]
    [InlineData("--verify", "yes", "--verify 'yes' is invalid; expected true or false.")]
    [InlineData("--keep-last", "x", "--keep-last 'x' is invalid; expected a whole number, 0 or more.")]
    [InlineData("--repository", "backups/oltp", "--repository 'backups/oltp' is not an absolute directory path.")]
    public async Task Bad_policy_value_exits_2_with_a_precise_message(string option, string value, string message)
    {
        await using var server = await FakeFleetServer.StartAsync();

        var (code, _, error) = await RunAsync("backup", "policy", "oltp", option, value, "--endpoint", server.Endpoint);

        Assert.Equal(2, code);
        Assert.Contains($"error: {message}", error, StringComparison.Ordinal);
        Assert.Empty(server.Backups.Received);
    }
}
