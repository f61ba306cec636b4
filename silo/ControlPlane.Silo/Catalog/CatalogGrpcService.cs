using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Health;
using ControlPlane.Silo.Security;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// The catalog's status as this silo knows it: memory and the backup repository on disk only, so it answers while
/// the catalog is down. Backups are started here; restores are offline (<see cref="CatalogRestoreCommand"/>).
/// </summary>
internal sealed class CatalogGrpcService(
    CatalogHealth health, TokenCache tokens, ILocalSiloDetails silo, CatalogBackupService backups,
    Bootstrap.EmbeddedInstances instances, CatalogSynchronyKeeper synchrony)
    : Proto.CatalogService.CatalogServiceBase
{
    public override async Task<Proto.GetCatalogStatusResponse> GetCatalogStatus(Proto.GetCatalogStatusRequest request, ServerCallContext context)
    {
        var s = health.Current;
        var response = new Proto.GetCatalogStatusResponse
        {
            Reachable = s.Reachable,
            Since = Timestamp.FromDateTimeOffset(s.Since),
            LastError = s.LastError,
            ConsecutiveFailures = s.ConsecutiveFailures,
            Embedded = s.Embedded,
            Endpoint = s.Endpoint,
            Restarts = s.Restarts,
            CrashLoop = s.CrashLoop,
            RecentCrashes = s.RecentCrashes,
            CachedTokens = tokens.Count,
            TokenListenerConnected = tokens.Listening,
            Silo = silo.SiloAddress.ToString(),
            Archive = Archive(),
        };
        if (s.LastCheck is { } check) response.LastCheck = Timestamp.FromDateTimeOffset(check);
        if (s.LastRestart is { } restart) response.LastRestart = Timestamp.FromDateTimeOffset(restart);
        if (backups.DisabledReason is null)
        {
            var current = backups.Current;
            // A backup being verified is already in the repository: it shows as running until its job ends.
            var complete = backups.Repository.List().Where(b => current is not { Running: true } || b.Id != current.Id);
            response.Backups.AddRange(complete.Select(Complete));
            if (current is { } attempt && (attempt.Running || attempt.Error is not null)) response.Backups.Add(Attempt(attempt));
        }
        if (await ReplicationAsync(context.CancellationToken) is { } replication) response.Replication = replication;
        return response;
    }

    /// <summary>From the manifest on disk (answers while the catalog is down), with the primary's silo's last observation.</summary>
    private async Task<Proto.CatalogReplication?> ReplicationAsync(CancellationToken ct)
    {
        if (instances.CatalogDirectory is not { } directory) return null;
        Postgres.Fleet.CatalogManifest? manifest;
        try
        {
            manifest = await Postgres.Fleet.CatalogManifest.ReadAsync(Path.Combine(directory, Postgres.Fleet.CatalogInstance.ManifestFile), ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return null;
        }
        if (manifest?.Standbys is not { Count: > 0 }) return null;
        var primary = manifest.PrimaryName;
        var replication = new Proto.CatalogReplication
        {
            Primary = primary,
            Standby = primary == Postgres.Fleet.CatalogInstance.PrimaryName ? Postgres.Fleet.CatalogStandby.Name : Postgres.Fleet.CatalogInstance.PrimaryName,
            Promotions = manifest.Promotions,
            Asynchronous = manifest.Asynchronous,
            DegradedReason = manifest.SynchronousDegradedReason ?? "",
        };
        if (manifest.SynchronousDegradedSince is { } since) replication.DegradedSince = Timestamp.FromDateTimeOffset(since);
        if (synchrony.Reading is { } seen && seen.Primary == primary)
        {
            replication.Observed = true;
            replication.StandbyState = seen.StandbyState ?? "";
            replication.WaitsForStandby = seen.WaitsForStandby;
            replication.Finding = seen.Verdict;
        }
        return replication;
    }

    public override Task<Proto.CatalogBackup> BackupCatalog(Proto.BackupCatalogRequest request, ServerCallContext context)
    {
        try
        {
            return Task.FromResult(Attempt(backups.Start()));
        }
        catch (InvalidOperationException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
    }

    private Proto.CatalogArchive Archive()
    {
        if (backups.DisabledReason is { } reason) return new Proto.CatalogArchive { Enabled = false, DisabledReason = reason };
        var archive = new Proto.CatalogArchive
        {
            Enabled = true,
            Repository = backups.Repository.Repository.TierDirectory,
            Schedule = backups.Schedule,
            KeepLast = backups.KeepLast,
        };
        if (backups.Archiver is { } a)
        {
            archive.Streaming = a.Running;
            archive.NewestSegment = a.NewestSegment ?? "";
            archive.ArchiverRestarts = a.Restarts;
            archive.LastError = a.LastError ?? "";
        }
        if (backups.NextBackup() is { } next) archive.NextBackup = Timestamp.FromDateTimeOffset(next);
        return archive;
    }

    private static Proto.CatalogBackup Complete(CatalogBackupEntry b) => new()
    {
        Id = b.Id,
        State = "succeeded",
        Started = Timestamp.FromDateTimeOffset(b.StartedAt),
        Finished = Timestamp.FromDateTimeOffset(b.FinishedAt),
        Bytes = b.Bytes,
        Timeline = b.Timeline,
        StartLsn = new Lsn(b.StartLsn).ToString(),
        StopLsn = new Lsn(b.StopLsn).ToString(),
    };

    private static Proto.CatalogBackup Attempt(CatalogBackupAttempt a)
    {
        var backup = new Proto.CatalogBackup
        {
            Id = a.Id,
            State = a.Running ? "running" : a.Error is null ? "succeeded" : "failed",
            Started = Timestamp.FromDateTimeOffset(a.StartedAt),
            Error = a.Error ?? "",
        };
        if (a.FinishedAt is { } f) backup.Finished = Timestamp.FromDateTimeOffset(f);
        return backup;
    }
}
