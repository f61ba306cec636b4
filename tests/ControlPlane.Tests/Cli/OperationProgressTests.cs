using ControlPlane.Cli.Backups;
using ControlPlane.Protos.V1;
using Xunit;
using static ControlPlane.Tests.Cli.FakeBackupService;

namespace ControlPlane.Tests.Cli;

public sealed class OperationProgressTests
{
    [Fact]
    public void A_repeated_state_adds_no_lines()
    {
        var op = Operation("oltp.b3", BackupOperationState.Running, "r3", "restore requested");
        op.Phase = "replaying WAL";

        Assert.Empty(OperationProgress.Lines(op, op.Clone(), withPhases: true));
    }

    [Fact]
    public void Progress_without_a_total_shows_the_bytes_done_and_no_percentage()
    {
        var op = new BackupOperation { Phase = "copying", DoneBytes = 3 << 20 };

        Assert.Equal("copying 3.0 MiB", OperationProgress.Progress(op));
        Assert.Null(OperationProgress.Percent(op));
    }

    [Fact]
    public void A_failed_operation_ends_with_its_error_once()
    {
        var running = Operation("oltp.b3", BackupOperationState.Running, "d4", "drill requested");
        var failed = Operation("oltp.b3", BackupOperationState.Failed, "d4", "drill requested", "failed: row counts differ");
        failed.Error = "row counts differ";

        var lines = OperationProgress.Lines(running, failed, withPhases: true);

        Assert.Equal(["  03:00:01.000  failed: row counts differ", "oltp.b3 FAILED in 2.0s: row counts differ"], lines);
        Assert.Empty(OperationProgress.Lines(failed, failed, withPhases: true));
    }
}
