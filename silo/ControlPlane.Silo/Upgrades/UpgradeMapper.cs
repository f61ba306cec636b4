using ControlPlane.Grains.Upgrades;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Upgrades;

internal static class UpgradeMapper
{
    public static Proto.UpgradeRehearsal ToProto(UpgradeRehearsal r)
    {
        var proto = new Proto.UpgradeRehearsal
        {
            Id = r.Id,
            Environment = r.Environment,
            Tier = r.Tier,
            Method = ToProto(r.Method),
            SourceVersion = r.SourceMajor,
            TargetVersion = r.TargetMajor,
            BackupId = r.BackupId,
            State = r.State switch
            {
                UpgradeRehearsalState.Running => Proto.UpgradeRehearsalState.Running,
                UpgradeRehearsalState.Succeeded => Proto.UpgradeRehearsalState.Succeeded,
                UpgradeRehearsalState.Failed => Proto.UpgradeRehearsalState.Failed,
                _ => Proto.UpgradeRehearsalState.Interrupted,
            },
            StartedAt = Timestamp.FromDateTimeOffset(r.StartedAt),
            FinishedAt = r.FinishedAt is { } f ? Timestamp.FromDateTimeOffset(f) : null,
            Duration = r.Duration is { } d ? Duration.FromTimeSpan(d) : null,
            Principal = r.Principal,
            Installations = r.Installations,
            CountsEqual = r.CountsEqual,
            CutoverWriteGap = r.CutoverWriteGap is { } gap ? Duration.FromTimeSpan(gap) : null,
            Error = r.Error,
            CleanedUp = r.CleanedUp,
            ScratchDirectory = r.ScratchDirectory,
        };
        if (r.MaxLagBytes is { } lag) proto.MaxLagBytes = lag;
        proto.Phases.AddRange(r.Phases.Select(p => new Proto.UpgradePhase { Name = p.Name, Duration = Duration.FromTimeSpan(p.Duration), Detail = p.Detail }));
        proto.Issues.AddRange(r.Issues);
        proto.Counts.AddRange(r.Counts.Select(c => new Proto.UpgradeTableCount { Database = c.Database, Table = c.Table, Before = c.Before, After = c.After }));
        proto.Smoke.AddRange(r.Smoke.Select(s => new Proto.UpgradeSmokeResult { Database = s.Database, Query = s.Query, Passed = s.Passed, Detail = s.Detail }));
        return proto;
    }

    public static Proto.UpgradeTarget ToProto(UpgradeTarget t)
    {
        var proto = new Proto.UpgradeTarget { Version = t.Major, BinDirectory = t.BinDirectory, Origin = t.Origin };
        proto.Tools.AddRange(t.Tools);
        proto.Methods.AddRange(t.Methods.Select(m => new Proto.UpgradeMethodOption { Method = ToProto(m.Method), Possible = m.Possible, Reason = m.Reason }));
        return proto;
    }

    private static Proto.UpgradeMethod ToProto(UpgradeMethod method) => method switch
    {
        UpgradeMethod.Logical => Proto.UpgradeMethod.Logical,
        UpgradeMethod.Dump => Proto.UpgradeMethod.Dump,
        _ => Proto.UpgradeMethod.PgUpgrade,
    };
}
