using System.Globalization;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Backups;

/// <summary>
/// What to print as a backup operation moves on: pure, so the line-by-line output (logs, CI, pipes) is tested
/// without a server. A watch sends the whole operation on every change; only what changed since the last one is printed.
/// </summary>
internal static class OperationProgress
{
    /// <summary>The lines <paramref name="next"/> adds after <paramref name="previous"/> (null: the first sight of it).</summary>
    public static IReadOnlyList<string> Lines(BackupOperation? previous, BackupOperation next, bool withPhases)
    {
        var lines = new List<string>();
        if (previous is null) lines.Add(Header(next));
        foreach (var step in next.Steps.Skip(previous?.Steps.Count ?? 0))
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {step.At?.ToDateTimeOffset():HH:mm:ss.fff}  {step.Message}"));
        if (withPhases && !Finished(next) && next.Phase.Length > 0 && next.Phase != previous?.Phase)
            lines.Add($"  progress: {Progress(next)}");
        if (Finished(next) && !Finished(previous)) lines.Add(Outcome(next));
        return lines;
    }

    public static string Header(BackupOperation op) =>
        $"operation {op.Id}: {Kind(op.Kind)} of tier {op.Tier} by {FleetFormat.OrDash(op.Principal)}"
        + (op.Subject.Length > 0 ? $" ({op.Subject})" : "");

    /// <summary>"copying 1.2 GiB of 4.0 GiB (30%)", "copying 1.2 GiB" when the total is unknown, or just the phase.</summary>
    public static string Progress(BackupOperation op)
    {
        var phase = op.Phase.Length > 0 ? op.Phase : State(op.State);
        if (op.TotalBytes > 0)
            return string.Create(CultureInfo.InvariantCulture,
                $"{phase} {FleetFormat.Bytes(op.DoneBytes)} of {FleetFormat.Bytes(op.TotalBytes)} ({Percent(op):0}%)");
        return op.DoneBytes > 0 ? $"{phase} {FleetFormat.Bytes(op.DoneBytes)}" : phase;
    }

    /// <summary>0 to 100, or null when the total is not known.</summary>
    public static double? Percent(BackupOperation op) =>
        op.TotalBytes > 0 ? Math.Clamp(100.0 * op.DoneBytes / op.TotalBytes, 0, 100) : null;

    public static string Outcome(BackupOperation op)
    {
        var took = op.StartedAt is { } s && op.FinishedAt is { } f ? " in " + FleetFormat.Duration(f.ToDateTimeOffset() - s.ToDateTimeOffset()) : "";
        var subject = op.Subject.Length > 0 ? $" ({op.Subject})" : "";
        return op.State == BackupOperationState.Failed
            ? $"{op.Id} FAILED{took}: {op.Error}"
            : $"{op.Id} {State(op.State)}{subject}{took}";
    }

    public static bool Finished(BackupOperation? op) =>
        op?.State is BackupOperationState.Succeeded or BackupOperationState.Failed;

    public static string Kind(BackupOperationKind kind) => kind switch
    {
        BackupOperationKind.Backup => "backup",
        BackupOperationKind.Drill => "drill",
        BackupOperationKind.Restore => "restore",
        BackupOperationKind.TenantExport => "tenant export",
        BackupOperationKind.TenantImport => "tenant import",
        _ => "operation",
    };

    public static string State(BackupOperationState state) => state switch
    {
        BackupOperationState.Pending => "pending",
        BackupOperationState.Running => "running",
        BackupOperationState.Succeeded => "succeeded",
        BackupOperationState.Failed => "FAILED",
        _ => "unknown",
    };
}
