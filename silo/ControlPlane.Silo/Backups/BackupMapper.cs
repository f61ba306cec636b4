using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Failover;
using ControlPlane.Postgres.Health;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Backups;

/// <summary>Backup records to their protobuf messages and back, in one place.</summary>
internal static class BackupMapper
{
    public static Proto.BackupPolicy ToProto(string env, string tier, BackupPolicy p) => new()
    {
        Environment = env,
        Tier = tier,
        Schedule = p.Schedule,
        KeepLast = p.KeepLast,
        RecoveryWindow = Duration.FromTimeSpan(p.RecoveryWindow),
        Source = p.Source == BackupSource.BestStandby ? Proto.BackupSource.BestStandby : Proto.BackupSource.Primary,
        Verify = p.Verify,
        DrillSchedule = p.DrillSchedule,
        RpoTarget = Duration.FromTimeSpan(p.RpoTarget),
        RtoTarget = Duration.FromTimeSpan(p.RtoTarget),
        Repository = p.Repository,
        SecondRepository = p.SecondRepository,
        Compression = p.Compression,
        MaxRateKbps = p.MaxRateKbps,
        ArchiveWal = p.ArchiveWal,
    };

    /// <summary>The current policy with the fields the request sets replaced; validation is the caller's.</summary>
    public static BackupPolicy Merge(BackupPolicy current, Proto.BackupPolicy patch) => current with
    {
        Schedule = patch.HasSchedule ? patch.Schedule.Trim() : current.Schedule,
        KeepLast = patch.HasKeepLast ? patch.KeepLast : current.KeepLast,
        RecoveryWindow = patch.RecoveryWindow is { } w ? Span("recovery_window", w) : current.RecoveryWindow,
        Source = patch.HasSource ? Source(patch.Source) : current.Source,
        Verify = patch.HasVerify ? patch.Verify : current.Verify,
        DrillSchedule = patch.HasDrillSchedule ? patch.DrillSchedule.Trim() : current.DrillSchedule,
        RpoTarget = patch.RpoTarget is { } rpo ? Span("rpo_target", rpo) : current.RpoTarget,
        RtoTarget = patch.RtoTarget is { } rto ? Span("rto_target", rto) : current.RtoTarget,
        Repository = patch.HasRepository ? patch.Repository : current.Repository,
        SecondRepository = patch.HasSecondRepository ? patch.SecondRepository : current.SecondRepository,
        Compression = patch.HasCompression ? patch.Compression : current.Compression,
        MaxRateKbps = patch.HasMaxRateKbps ? patch.MaxRateKbps : current.MaxRateKbps,
        ArchiveWal = patch.HasArchiveWal ? patch.ArchiveWal : current.ArchiveWal,
    };

    private static BackupSource Source(Proto.BackupSource s) => s switch
    {
        Proto.BackupSource.Primary => BackupSource.Primary,
        Proto.BackupSource.BestStandby => BackupSource.BestStandby,
        _ => throw new ArgumentException($"source {(int)s} is not a known source; expected primary or best_standby."),
    };

    private static TimeSpan Span(string field, Duration d)
    {
        if (d.Seconds < 0 || d.Nanos < 0 || d.Seconds > 10L * 365 * 86400)
            throw new ArgumentException($"{field} {d.Seconds}s is out of range; expected a non-negative duration of at most 10 years.");
        return d.ToTimeSpan();
    }

    public static Proto.Backup ToProto(string env, string tier, BackupRecord b)
    {
        var m = new Proto.Backup
        {
            Id = b.Id,
            Environment = env,
            Tier = tier,
            State = b.State switch
            {
                BackupState.Succeeded => Proto.BackupState.Succeeded,
                BackupState.Failed => Proto.BackupState.Failed,
                BackupState.Deleted => Proto.BackupState.Deleted,
                _ => Proto.BackupState.Running,
            },
            StartedAt = Timestamp.FromDateTimeOffset(b.StartedAt),
            Timeline = b.Timeline,
            StartLsn = b.StartLsn == 0 ? "" : new Lsn(b.StartLsn).ToString(),
            StopLsn = b.StopLsn == 0 ? "" : new Lsn(b.StopLsn).ToString(),
            Bytes = b.Bytes,
            Verified = b.Verified,
            VerifyDetail = b.VerifyDetail,
            Error = b.Error,
            SourceReplica = b.SourceReplica,
            RestorePoint = b.RestorePoint,
            RestorePointLsn = b.RestorePointLsn == 0 ? "" : new Lsn(b.RestorePointLsn).ToString(),
            Compression = b.Compression,
            Principal = b.Principal,
            OperationId = b.OperationId,
        };
        if (b.FinishedAt is { } f) m.FinishedAt = Timestamp.FromDateTimeOffset(f);
        if (b.Duration is { } d) m.Duration = Duration.FromTimeSpan(d);
        m.Repositories.AddRange(b.Repositories);
        m.Counts.AddRange(b.Counts.Select(ToProto));
        m.Drills.AddRange(b.Drills);
        return m;
    }

    public static Proto.TableCount ToProto(TableCountRecord c) => new() { Database = c.Database, Table = c.Table, Rows = c.Rows };

    public static Proto.BackupOperation ToProto(BackupOperation o)
    {
        var m = new Proto.BackupOperation
        {
            Id = o.Id,
            Kind = o.Kind switch
            {
                BackupOperationKind.Drill => Proto.BackupOperationKind.Drill,
                BackupOperationKind.Restore => Proto.BackupOperationKind.Restore,
                BackupOperationKind.TenantExport => Proto.BackupOperationKind.TenantExport,
                BackupOperationKind.TenantImport => Proto.BackupOperationKind.TenantImport,
                _ => Proto.BackupOperationKind.Backup,
            },
            Environment = o.Environment,
            Tier = o.Tier,
            Principal = o.Principal,
            State = o.State switch
            {
                OperationState.Running => Proto.BackupOperationState.Running,
                OperationState.Succeeded => Proto.BackupOperationState.Succeeded,
                OperationState.Failed => Proto.BackupOperationState.Failed,
                _ => Proto.BackupOperationState.Pending,
            },
            StartedAt = Timestamp.FromDateTimeOffset(o.StartedAt),
            Error = o.Error,
            Subject = o.Subject,
            Phase = o.Phase,
            DoneBytes = o.DoneBytes,
            TotalBytes = o.TotalBytes,
        };
        if (o.FinishedAt is { } f) m.FinishedAt = Timestamp.FromDateTimeOffset(f);
        m.Steps.AddRange(o.Steps.Select(s => new Proto.BackupOperationStep { At = Timestamp.FromDateTimeOffset(s.At), Message = s.Message }));
        return m;
    }

    public static Proto.RestoredInstance ToProto(string env, string tier, RestoreRecord r)
    {
        var m = new Proto.RestoredInstance
        {
            Id = r.Id,
            Environment = env,
            Tier = tier,
            BackupId = r.BackupId,
            Target = r.Target.ToString(),
            Into = r.Into == RestoreInto.Standby ? Proto.RestoreInto.Standby : Proto.RestoreInto.Instance,
            Status = r.Status switch
            {
                RestoreStatus.Ready => Proto.RestoreStatus.Ready,
                RestoreStatus.Failed => Proto.RestoreStatus.Failed,
                RestoreStatus.Dropped => Proto.RestoreStatus.Dropped,
                RestoreStatus.Registered => Proto.RestoreStatus.Registered,
                _ => Proto.RestoreStatus.Running,
            },
            DataDirectory = r.DataDirectory,
            Host = "127.0.0.1",
            Port = r.Port,
            StartedAt = Timestamp.FromDateTimeOffset(r.StartedAt),
            Timeline = r.Timeline,
            ReachedLsn = r.ReachedLsn == 0 ? "" : new Lsn(r.ReachedLsn).ToString(),
            Error = r.Error,
            Principal = r.Principal,
            Replica = r.ReplicaName,
        };
        if (r.FinishedAt is { } f) m.FinishedAt = Timestamp.FromDateTimeOffset(f);
        return m;
    }

    /// <summary>The requested target, validated; a time must carry a time zone (a Timestamp always is UTC).</summary>
    public static RestoreTargetSpec Target(Proto.RestoreTarget? t) => t?.TargetCase switch
    {
        null or Proto.RestoreTarget.TargetOneofCase.None or Proto.RestoreTarget.TargetOneofCase.Latest => new RestoreTargetSpec(RestoreTargetKind.Latest),
        Proto.RestoreTarget.TargetOneofCase.Immediate => new RestoreTargetSpec(RestoreTargetKind.Immediate),
        Proto.RestoreTarget.TargetOneofCase.Time => new RestoreTargetSpec(RestoreTargetKind.Time, Time: ValidTime(t.Time)),
        Proto.RestoreTarget.TargetOneofCase.Lsn => Lsn.TryParse(t.Lsn, out var lsn) && lsn.Value > 0
            ? new RestoreTargetSpec(RestoreTargetKind.Lsn, Lsn: lsn.Value)
            : throw new ArgumentException($"target.lsn '{Gateway.RequestValidation.Shown(t.Lsn)}' is not a WAL location; expected two hexadecimal numbers separated by '/', like 0/3000060."),
        Proto.RestoreTarget.TargetOneofCase.RestorePoint => new RestoreTargetSpec(RestoreTargetKind.RestorePoint, Name: RestorePointName("target.restore_point", t.RestorePoint)),
        _ => throw new ArgumentException("target is not a known kind; expected latest, time, lsn, restore_point or immediate."),
    };

    private static DateTimeOffset ValidTime(Timestamp ts)
    {
        if (ts.Seconds < 0 || ts.Nanos is < 0 or > 999_999_999) throw new ArgumentException($"target.time {ts} is not a valid timestamp.");
        var time = ts.ToDateTimeOffset();
        if (time > DateTimeOffset.UtcNow.AddMinutes(1))
            throw new ArgumentException($"target.time {time:O} is in the future; expected a moment the archive can hold.");
        return time;
    }

    /// <summary>A restore point name: 1 to 63 of [A-Za-z0-9_.:-] (it travels into recovery settings).</summary>
    public static string RestorePointName(string field, string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 63 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-'))
            throw new ArgumentException($"{field} '{Gateway.RequestValidation.Shown(name ?? "")}' is invalid; expected 1 to 63 characters of letters, digits, '_', '.', ':' or '-'.");
        return name;
    }

    public static Proto.Drill ToProto(DrillRecord d)
    {
        var m = new Proto.Drill
        {
            Id = d.Id,
            BackupId = d.BackupId,
            StartedAt = Timestamp.FromDateTimeOffset(d.StartedAt),
            Error = d.Error,
            Principal = d.Principal,
        };
        if (d.FinishedAt is { } f) m.FinishedAt = Timestamp.FromDateTimeOffset(f);
        if (d.Passed is { } p) m.Passed = p;
        if (d.Rto is { } rto) m.Rto = Duration.FromTimeSpan(rto);
        m.Checks.AddRange(d.Checks.Select(c => new Proto.DrillCheck { Name = c.Name, Passed = c.Passed, Detail = c.Detail }));
        return m;
    }

    public static Proto.ArchiveStatus ToProto(string env, string tier, ArchiveStatus a, BackupPolicy policy)
    {
        var m = new Proto.ArchiveStatus
        {
            Environment = env,
            Tier = tier,
            Rpo = Duration.FromTimeSpan(a.Rpo),
            RpoTarget = Duration.FromTimeSpan(policy.RpoTarget),
            PrimaryLsn = a.PrimaryLsn == 0 ? "" : new Lsn(a.PrimaryLsn).ToString(),
            StoredLsn = a.StoredLsn is { } s ? new Lsn(s).ToString() : "",
            Streaming = a.Streaming,
            Server = a.Server,
            Restarts = a.Restarts,
            LastError = a.LastError,
            NewestSegment = a.NewestSegment,
            Enabled = policy.ArchiveWal,
        };
        if (a.MeasuredAt != DateTimeOffset.MinValue) m.MeasuredAt = Timestamp.FromDateTimeOffset(a.MeasuredAt);
        m.Gaps.AddRange(a.Gaps.Select(g => new Proto.WalGap
        {
            Timeline = g.Timeline,
            FromLsn = new Lsn(g.FromLsn).ToString(),
            ToLsn = new Lsn(g.ToLsn).ToString(),
            LastArchivedAt = Timestamp.FromDateTimeOffset(g.LastArchivedAt),
            RecordedAt = Timestamp.FromDateTimeOffset(g.RecordedAt),
            Server = g.Server,
            Bridged = g.Bridged,
        }));
        return m;
    }

    public static Proto.RetentionDecision ToProto(RetentionDecision d, bool dryRun)
    {
        var m = new Proto.RetentionDecision
        {
            Sequence = d.Sequence,
            DecidedAt = Timestamp.FromDateTimeOffset(d.At),
            WalBefore = d.WalBefore is { } w ? new Lsn(w).ToString() : "",
            CarriedOut = d.CarriedOut,
            WalFilesDeleted = d.WalFilesDeleted,
            BytesFreed = d.BytesFreed,
            Error = d.Error,
            DryRun = dryRun,
        };
        m.DeleteBackups.AddRange(d.DeleteBackups);
        m.Reasons.AddRange(d.Reasons);
        return m;
    }

    public static Proto.TenantExport ToProto(TenantExportRecord e)
    {
        var m = new Proto.TenantExport
        {
            Id = e.Id,
            Tenant = e.Tenant,
            CreatedAt = Timestamp.FromDateTimeOffset(e.At),
            File = e.File,
            Bytes = e.Bytes,
            Principal = e.Principal,
        };
        m.Counts.AddRange(e.Counts.Select(ToProto));
        return m;
    }
}
