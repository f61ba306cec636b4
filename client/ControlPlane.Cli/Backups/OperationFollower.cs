using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Spectre.Console;

namespace ControlPlane.Cli.Backups;

/// <summary>
/// Follows a backup operation until it finishes: a live progress bar on a terminal, otherwise one line per step and
/// phase change (no ANSI), or one JSON object per change with --json. Exit 0 when it succeeded, 1 when it failed,
/// 3 when the watch ended before the operation did (the silo went away).
/// </summary>
internal static class OperationFollower
{
    public sealed record Outcome(int ExitCode, BackupOperation Operation);

    public static async Task<Outcome> FollowAsync(CommandContext context, BackupOperation op, bool noWait, CancellationToken ct)
    {
        var io = context.Io;
        if (noWait || OperationProgress.Finished(op))
        {
            await ShowLinesAsync(context, null, op).ConfigureAwait(false);
            return await EndAsync(context, op).ConfigureAwait(false);
        }
        try
        {
            var last = context.Json || !io.Terminal
                ? await WatchAsync(context, op, (previous, next) => ShowLinesAsync(context, previous, next), ct).ConfigureAwait(false)
                : await WatchWithBarAsync(context, op, ct).ConfigureAwait(false);
            return OperationProgress.Finished(last)
                ? await EndAsync(context, last).ConfigureAwait(false)
                : await LostAsync(context, last).ConfigureAwait(false);
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            // Ctrl-C stops the watching, not the operation; say how to pick it up again.
            await io.Error.WriteLineAsync($"stopped following {op.Id}; it goes on. Follow it with: cpctl backup operation {op.Id} --watch").ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<BackupOperation> WatchWithBarAsync(CommandContext context, BackupOperation op, CancellationToken ct)
    {
        var console = context.Io.Console;
        var progress = console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn());
        return await progress.StartAsync(async bar =>
        {
            var task = bar.AddTask(Markup.Escape(OperationProgress.Progress(op)), maxValue: 100);
            Task Show(BackupOperation? previous, BackupOperation next)
            {
                // Steps go above the bar (Spectre keeps the live display last); the phase lives in the bar itself.
                foreach (var line in OperationProgress.Lines(previous, next, withPhases: false)) console.WriteLine(line);
                task.Description = Markup.Escape(OperationProgress.Progress(next));
                task.IsIndeterminate = OperationProgress.Percent(next) is null && !OperationProgress.Finished(next);
                task.Value = OperationProgress.Finished(next) ? 100 : OperationProgress.Percent(next) ?? 0;
                return Task.CompletedTask;
            }
            return await WatchAsync(context, op, Show, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>Shows <paramref name="op"/>, then every change the watch sends, until it finishes; returns the last seen.</summary>
    private static async Task<BackupOperation> WatchAsync(CommandContext context, BackupOperation op, Func<BackupOperation?, BackupOperation, Task> show, CancellationToken ct)
    {
        await show(null, op).ConfigureAwait(false);
        var request = new GetBackupOperationRequest { Environment = context.Environment, OperationId = op.Id };
        using (var call = context.Client.Backups.WatchBackupOperation(request, cancellationToken: ct))
        {
            while (!OperationProgress.Finished(op) && await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
                var next = call.ResponseStream.Current;
                await show(op, next).ConfigureAwait(false);
                op = next;
            }
        }
        if (OperationProgress.Finished(op)) return op;
        // The stream ended early (a silo restart ends watches): one more look tells "finished meanwhile" from "lost".
        var now = await context.Client.Backups.GetBackupOperationAsync(request, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
        await show(op, now).ConfigureAwait(false);
        return now;
    }

    private static async Task ShowLinesAsync(CommandContext context, BackupOperation? previous, BackupOperation next)
    {
        if (context.Json)
        {
            // A watch opens with the state cpctl already printed; one object per change, no repeats.
            if (!next.Equals(previous)) await JsonOutput.WriteAsync(context.Io.Out, next).ConfigureAwait(false);
            return;
        }
        foreach (var line in OperationProgress.Lines(previous, next, withPhases: true))
            await context.Io.Out.WriteLineAsync(line).ConfigureAwait(false);
        await context.Io.Out.FlushAsync().ConfigureAwait(false);
    }

    private static async Task<Outcome> EndAsync(CommandContext context, BackupOperation op)
    {
        if (op.State != BackupOperationState.Failed) return new Outcome(ExitCodes.Ok, op);
        await context.Io.Error.WriteLineAsync($"error: operation {op.Id} failed: {op.Error}").ConfigureAwait(false);
        return new Outcome(ExitCodes.Refused, op);
    }

    // The watch ended while the operation still ran: it goes on, cpctl lost sight of it.
    private static async Task<Outcome> LostAsync(CommandContext context, BackupOperation op)
    {
        await context.Io.Error.WriteLineAsync(
            $"error: the watch of {op.Id} ended while it was {OperationProgress.State(op.State)}; it goes on. Follow it with: cpctl backup operation {op.Id} --watch").ConfigureAwait(false);
        return new Outcome(ExitCodes.Unreachable, op);
    }
}
