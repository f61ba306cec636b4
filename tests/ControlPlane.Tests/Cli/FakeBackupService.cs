using System.Collections.Concurrent;
using ControlPlane.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace ControlPlane.Tests.Cli;

/// <summary>
/// A scripted BackupService: records what cpctl sent, answers long jobs with <see cref="Started"/>, and streams
/// <see cref="WatchScript"/> to every watch. Only what the cpctl tests need is implemented.
/// </summary>
internal sealed class FakeBackupService : BackupService.BackupServiceBase
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 27, 3, 0, 0, TimeSpan.Zero);

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<IMessage> Received { get; } = new();

    /// <summary>What StartBackup, Restore, StartDrill, ExportTenant and ImportTenant answer.</summary>
    public BackupOperation Started { get; set; } = Operation("oltp.b3", BackupOperationState.Running, "20261127T030000Z-12", "backup requested");

    /// <summary>What every WatchBackupOperation call sends, after which the stream ends.</summary>
    public List<BackupOperation> WatchScript { get; } = [];

    /// <summary>What GetBackupOperation answers; defaults to the last scripted state, else <see cref="Started"/>.</summary>
    public BackupOperation? Current { get; set; }

    public BackupPolicy Policy { get; set; } = new() { Environment = "local", Tier = "oltp", KeepLast = 7, Repository = "/srv/backups/oltp", Compression = "lz4" };

    public ArchiveStatus Archive { get; set; } = new() { Environment = "local", Tier = "oltp", Enabled = true, Streaming = true };

    public List<RestoredInstance> Restores { get; } = [];

    public List<Backup> Backups { get; } = [];

    public static BackupOperation Operation(string id, BackupOperationState state, string subject, params string[] steps)
    {
        var op = new BackupOperation
        {
            Id = id,
            Kind = BackupOperationKind.Backup,
            Environment = "local",
            Tier = id.Split('.')[0],
            Principal = "admin",
            State = state,
            StartedAt = Timestamp.FromDateTimeOffset(T0),
            Subject = subject,
        };
        for (var i = 0; i < steps.Length; i++)
            op.Steps.Add(new BackupOperationStep { At = Timestamp.FromDateTimeOffset(T0.AddSeconds(i)), Message = steps[i] });
        if (state is BackupOperationState.Succeeded or BackupOperationState.Failed) op.FinishedAt = Timestamp.FromDateTimeOffset(T0.AddSeconds(steps.Length));
        return op;
    }

    public override Task<BackupPolicy> GetBackupPolicy(GetBackupPolicyRequest request, ServerCallContext context) => Answer(request, Policy);

    public override Task<BackupPolicy> SetBackupPolicy(SetBackupPolicyRequest request, ServerCallContext context) => Answer(request, Policy);

    public override Task<BackupOperation> StartBackup(StartBackupRequest request, ServerCallContext context) => Answer(request, Started);

    public override Task<BackupOperation> Restore(RestoreRequest request, ServerCallContext context) => Answer(request, Started);

    public override Task<BackupOperation> StartDrill(StartDrillRequest request, ServerCallContext context) => Answer(request, Started);

    public override Task<BackupOperation> GetBackupOperation(GetBackupOperationRequest request, ServerCallContext context) =>
        Answer(request, Current ?? WatchScript.LastOrDefault() ?? Started);

    public override async Task WatchBackupOperation(GetBackupOperationRequest request, IServerStreamWriter<BackupOperation> responseStream, ServerCallContext context)
    {
        Received.Enqueue(request);
        foreach (var op in WatchScript) await responseStream.WriteAsync(op, context.CancellationToken);
    }

    public override Task<ListBackupsResponse> ListBackups(ListBackupsRequest request, ServerCallContext context)
    {
        var response = new ListBackupsResponse();
        response.Backups.AddRange(Backups);
        return Answer(request, response);
    }

    public override Task<ListRestoresResponse> ListRestores(ListRestoresRequest request, ServerCallContext context)
    {
        var response = new ListRestoresResponse();
        response.Restores.AddRange(Restores);
        return Answer(request, response);
    }

    public override Task<ArchiveStatus> GetArchiveStatus(GetArchiveStatusRequest request, ServerCallContext context) => Answer(request, Archive);

    public override Task<ListDrillsResponse> ListDrills(ListDrillsRequest request, ServerCallContext context) => Answer(request, new ListDrillsResponse());

    /// <summary>The requests of one method, in order.</summary>
    public IReadOnlyList<T> RequestsOf<T>() where T : IMessage => [.. Received.OfType<T>()];

    private Task<T> Answer<T>(IMessage request, T response)
    {
        Received.Enqueue(request);
        return Task.FromResult(response);
    }
}
