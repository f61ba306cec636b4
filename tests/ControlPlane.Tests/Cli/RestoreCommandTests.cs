using ControlPlane.Protos.V1;
using Google.Protobuf;
using Xunit;
using static ControlPlane.Tests.Cli.CpctlRun;
using static ControlPlane.Tests.Cli.FakeBackupService;

namespace ControlPlane.Tests.Cli;

/// <summary><c>cpctl restore run</c> and <c>cpctl archive</c>: what is asked for, and what the SRE is told.</summary>
public sealed class RestoreCommandTests
{
    private static async Task<FakeFleetServer> RestoringServerAsync()
    {
        var server = await FakeFleetServer.StartAsync();
        server.Backups.Started = Operation("oltp.b4", BackupOperationState.Running, "r3", "restore requested");
        server.Backups.Started.Kind = BackupOperationKind.Restore;
        var done = Operation("oltp.b4", BackupOperationState.Succeeded, "r3", "restore requested", "recovery reached 0/3000060", "done");
        done.Kind = BackupOperationKind.Restore;
        server.Backups.WatchScript.AddRange([server.Backups.Started, done]);
        server.Backups.Restores.Add(new RestoredInstance { Id = "r2", Host = "127.0.0.1", Port = 6001, DataDirectory = "/srv/restores/r2" });
        server.Backups.Restores.Add(new RestoredInstance
        {
            Id = "r3", Tier = "oltp", Host = "127.0.0.1", Port = 6002, DataDirectory = "/srv/restores/oltp/r3/data",
            Status = RestoreStatus.Ready, BackupId = "20261127T030000Z-12", Target = "lsn 0/3000060", Timeline = 2, ReachedLsn = "0/3000060",
        });
        return server;
    }

    public static TheoryData<string[], RestoreTarget> Targets => new()
    {
        { [], new RestoreTarget { Latest = true } },
        { ["--latest"], new RestoreTarget { Latest = true } },
        { ["--time", "2026-11-27T04:15:00+01:00"], new RestoreTarget { Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 27, 3, 15, 0, TimeSpan.Zero)) } },
        { ["--lsn", "0/3000060"], new RestoreTarget { Lsn = "0/3000060" } },
        { ["--restore-point", "before-migration"], new RestoreTarget { RestorePoint = "before-migration" } },
        { ["--immediate"], new RestoreTarget { Immediate = true } },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task Restore_target_flag_becomes_its_case_of_the_target_oneof(string[] flags, RestoreTarget expected)
    {
        await using var server = await RestoringServerAsync();

        var (code, _, error) = await RunAsync(["restore", "run", "oltp", .. flags, "--endpoint", server.Endpoint]);

        Assert.True(code == 0, error);
        Assert.Equal(expected, Assert.Single(server.Backups.RequestsOf<RestoreRequest>()).Target);
    }

    [Fact]
    public async Task Restore_into_standby_from_a_given_backup_sends_both()
    {
        await using var server = await RestoringServerAsync();

        var (code, _, _) = await RunAsync("restore", "run", "oltp", "--into", "standby", "--backup", "20261127T030000Z-12", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        var sent = Assert.Single(server.Backups.RequestsOf<RestoreRequest>());
        Assert.Equal(RestoreInto.Standby, sent.Into);
        Assert.Equal("20261127T030000Z-12", sent.BackupId);
    }

    [Fact]
    public async Task Restore_ends_with_the_restored_instances_endpoint_and_data_directory()
    {
        await using var server = await RestoringServerAsync();

        var (code, output, _) = await RunAsync("restore", "run", "oltp", "--lsn", "0/3000060", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.Contains("restore r3 ready", last, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:6002, data directory /srv/restores/oltp/r3/data", last, StringComparison.Ordinal);
        // Plain lines when stdout is not a terminal: no escape sequences for logs and pipes.
        Assert.DoesNotContain('\u001b', output);
    }

    [Fact]
    public async Task Restore_json_ends_with_the_restored_instance()
    {
        await using var server = await RestoringServerAsync();

        var (code, output, _) = await RunAsync("restore", "run", "oltp", "--json", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(BackupOperationState.Succeeded, JsonParser.Default.Parse<BackupOperation>(lines[^2]).State);
        Assert.Equal(6002, JsonParser.Default.Parse<RestoredInstance>(lines[^1]).Port);
    }

    [Theory]
    [InlineData("--latest", "--immediate")]
    [InlineData("--lsn", "0/1", "--restore-point", "p1")]
    public async Task Two_restore_targets_exit_2_and_send_nothing(params string[] flags)
    {
        await using var server = await RestoringServerAsync();

        var (code, _, error) = await RunAsync(["restore", "run", "oltp", .. flags, "--endpoint", server.Endpoint]);

        Assert.Equal(2, code);
        Assert.Contains("give one restore target, not 2", error, StringComparison.Ordinal);
        Assert.Empty(server.Backups.Received);
    }

    [Theory]
    [InlineData("--time", "2026-11-27T03:15:00", "--time: '2026-11-27T03:15:00' is not a time with a UTC offset")]
    [InlineData("--lsn", "3000060", "--lsn: '3000060' is not a WAL location")]
    [InlineData("--restore-point", "before migration", "--restore-point: 'before migration' is not a restore point name")]
    public async Task Malformed_restore_target_exits_2_naming_it(string flag, string value, string message)
    {
        var (code, _, error) = await RunAsync("restore", "run", "oltp", flag, value);

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Archive_exits_1_when_the_rpo_is_above_its_target()
    {
        await using var server = await FakeFleetServer.StartAsync();
        server.Backups.Archive.Rpo = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(12));
        server.Backups.Archive.RpoTarget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(1));

        var (code, _, error) = await RunAsync("archive", "oltp", "--endpoint", server.Endpoint);

        Assert.Equal(1, code);
        Assert.Equal("error: RPO 12s is above the target 1.0s", error.Trim());
    }

    [Fact]
    public async Task Archive_exits_1_when_enabled_but_not_streaming()
    {
        await using var server = await FakeFleetServer.StartAsync();
        server.Backups.Archive.Streaming = false;
        server.Backups.Archive.LastError = "connection refused";

        var (code, _, error) = await RunAsync("archive", "oltp", "--json", "--endpoint", server.Endpoint);

        Assert.Equal(1, code);
        Assert.Contains("not streaming (last error: connection refused)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Archive_within_its_target_exits_0_and_its_json_parses()
    {
        await using var server = await FakeFleetServer.StartAsync();
        server.Backups.Archive.Rpo = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMilliseconds(200));
        server.Backups.Archive.RpoTarget = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(1));

        var (code, output, _) = await RunAsync("archive", "oltp", "--json", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        Assert.True(JsonParser.Default.Parse<ArchiveStatus>(output).Streaming);
    }
}
