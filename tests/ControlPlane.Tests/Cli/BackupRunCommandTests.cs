using ControlPlane.Protos.V1;
using Google.Protobuf;
using Xunit;
using static ControlPlane.Tests.Cli.CpctlRun;
using static ControlPlane.Tests.Cli.FakeBackupService;

namespace ControlPlane.Tests.Cli;

/// <summary><c>cpctl backup run</c> and <c>backup operation</c>: following an operation, and the exit code it ends with.</summary>
public sealed class BackupRunCommandTests
{
    private const string Id = "20261127T030000Z-12";

    private static async Task<FakeFleetServer> ServerAsync(BackupOperationState end, string error = "")
    {
        var server = await FakeFleetServer.StartAsync();
        var copying = Operation("oltp.b3", BackupOperationState.Running, Id, "backup requested", "taking base backup from oltp-2");
        copying.Phase = "copying";
        copying.DoneBytes = 512L * 1024 * 1024;
        copying.TotalBytes = 1024L * 1024 * 1024;
        var copyingMore = copying.Clone();
        copyingMore.DoneBytes = 768L * 1024 * 1024;
        var last = Operation("oltp.b3", end, Id, "backup requested", "taking base backup from oltp-2", end == BackupOperationState.Failed ? $"failed: {error}" : "done");
        last.Error = error;
        server.Backups.WatchScript.AddRange([server.Backups.Started, copying, copyingMore, last]);
        return server;
    }

    [Fact]
    public async Task Backup_run_follows_the_operation_to_success_and_exits_0()
    {
        await using var server = await ServerAsync(BackupOperationState.Succeeded);

        var (code, output, error) = await RunAsync("backup", "run", "oltp", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Equal("oltp", Assert.Single(server.Backups.RequestsOf<StartBackupRequest>()).Tier);
        Assert.Equal("oltp.b3", Assert.Single(server.Backups.RequestsOf<GetBackupOperationRequest>()).OperationId);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"operation oltp.b3: backup of tier oltp by admin ({Id})", lines[0]);
        Assert.Contains(lines, l => l.EndsWith("  taking base backup from oltp-2", StringComparison.Ordinal));
        // One progress line per phase change, not one per byte count.
        Assert.Single(lines, l => l.Contains("progress:", StringComparison.Ordinal));
        Assert.Contains("  progress: copying 512.0 MiB of 1.0 GiB (50%)", lines);
        Assert.StartsWith($"oltp.b3 succeeded ({Id}) in ", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backup_run_exits_1_with_the_operations_error_when_it_fails()
    {
        await using var server = await ServerAsync(BackupOperationState.Failed, "pg_basebackup exited 1: could not connect");

        var (code, output, error) = await RunAsync("backup", "run", "oltp", "--endpoint", server.Endpoint);

        Assert.Equal(1, code);
        Assert.Equal("error: operation oltp.b3 failed: pg_basebackup exited 1: could not connect", error.Trim());
        Assert.Contains("oltp.b3 FAILED", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backup_run_exits_3_when_the_watch_ends_while_the_operation_still_runs()
    {
        await using var server = await FakeFleetServer.StartAsync();
        server.Backups.WatchScript.Add(server.Backups.Started);

        var (code, _, error) = await RunAsync("backup", "run", "oltp", "--endpoint", server.Endpoint);

        Assert.Equal(3, code);
        Assert.Contains("cpctl backup operation oltp.b3 --watch", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backup_run_with_no_wait_prints_the_operation_and_does_not_watch()
    {
        await using var server = await ServerAsync(BackupOperationState.Succeeded);

        var (code, output, _) = await RunAsync("backup", "run", "oltp", "--no-wait", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        Assert.Contains("operation oltp.b3", output, StringComparison.Ordinal);
        Assert.Empty(server.Backups.RequestsOf<GetBackupOperationRequest>());
    }

    [Fact]
    public async Task Backup_run_json_prints_one_parseable_operation_per_line()
    {
        await using var server = await ServerAsync(BackupOperationState.Succeeded);

        var (code, output, _) = await RunAsync("backup", "run", "oltp", "--json", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        var ops = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(JsonParser.Default.Parse<BackupOperation>).ToList();
        Assert.Equal(4, ops.Count);
        Assert.Equal(BackupOperationState.Succeeded, ops[^1].State);
    }

    [Fact]
    public async Task Backup_list_json_parses_as_a_ListBackupsResponse()
    {
        await using var server = await FakeFleetServer.StartAsync();
        server.Backups.Backups.Add(new Backup { Id = Id, Tier = "oltp", State = BackupState.Succeeded, Bytes = 3 << 20, Verified = true, StartLsn = "0/2000028", StopLsn = "0/2000100" });

        var (code, output, _) = await RunAsync("backup", "list", "oltp", "--all", "--json", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        Assert.Equal(Id, Assert.Single(JsonParser.Default.Parse<ListBackupsResponse>(output).Backups).Id);
        Assert.True(Assert.Single(server.Backups.RequestsOf<ListBackupsRequest>()).IncludeDeleted);
    }

    [Fact]
    public async Task Backup_list_shows_size_in_binary_units_and_the_wal_range()
    {
        await using var server = await FakeFleetServer.StartAsync();
        server.Backups.Backups.Add(new Backup { Id = Id, Tier = "oltp", State = BackupState.Succeeded, Bytes = 3 << 20, Verified = true, StartLsn = "0/2000028", StopLsn = "0/2000100", SourceReplica = "oltp-2" });

        var (code, output, _) = await RunAsync("backup", "list", "oltp", "--endpoint", server.Endpoint);

        Assert.Equal(0, code);
        Assert.Contains(Id, output, StringComparison.Ordinal);
        Assert.Contains("3.0 MiB", output, StringComparison.Ordinal);
        Assert.Contains("0/2000100", output, StringComparison.Ordinal);
        Assert.Contains("oltp-2", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("oltp.3")]
    [InlineData("oltp.b")]
    [InlineData("OLTP.b3")]
    public async Task Operation_id_not_shaped_tier_dot_b_number_exits_2(string id)
    {
        var (code, _, error) = await RunAsync("backup", "operation", id);

        Assert.Equal(2, code);
        Assert.Contains($"ID: '{id}' is not a backup operation id", error, StringComparison.Ordinal);
    }
}
