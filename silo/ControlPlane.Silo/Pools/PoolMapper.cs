using ControlPlane.Grains.Pools;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Pools;

/// <summary>Pool records to their protobuf messages and back, in one place.</summary>
internal static class PoolMapper
{
    public static Proto.Tenant ToProto(string environment, TenantRecord t)
    {
        var tenant = new Proto.Tenant { Environment = environment, Name = t.Name, CreatedAt = Timestamp.FromDateTimeOffset(t.CreatedAt) };
        tenant.Plans.AddRange(t.Plans.Select(ToProto));
        return tenant;
    }

    public static Proto.TenantPlan ToProto(TenantPlan p) => new() { Tier = p.Tier, Weight = p.Weight, Min = p.Min, Max = p.Max };

    public static TenantPlan FromProto(Proto.TenantPlan p) => new(p.Tier, p.Weight, p.Min, p.Max);

    public static Proto.Lease ToProto(string environment, LeaseView view)
    {
        var l = view.Lease;
        var lease = new Proto.Lease
        {
            LeaseId = l.Id,
            Environment = environment,
            Tier = l.Tier,
            Tenant = l.Tenant,
            Service = l.Service,
            Requested = l.Requested,
            Granted = l.Granted,
            Access = ToProto(l.Access),
            TtlSeconds = (int)l.Ttl.TotalSeconds,
            ExpiresAt = Timestamp.FromDateTimeOffset(l.ExpiresAt),
            AcquiredAt = Timestamp.FromDateTimeOffset(l.AcquiredAt),
            State = l.State switch
            {
                LeaseState.Active => Proto.LeaseState.Active,
                LeaseState.Released => Proto.LeaseState.Released,
                _ => Proto.LeaseState.Expired,
            },
            Tag = l.Tag,
            Version = l.Version,
        };
        if (view.Usage is { } u)
        {
            lease.Connections = u.Connections;
            lease.IdleInTransaction = u.IdleInTransaction;
            lease.LongestIdleInTransactionSeconds = u.LongestIdleInTransactionSeconds;
        }
        return lease;
    }

    public static Proto.LeaseAccess ToProto(LeaseAccess access) =>
        access == LeaseAccess.ReadOnly ? Proto.LeaseAccess.ReadOnly : Proto.LeaseAccess.ReadWrite;

    public static Proto.PoolSettings ToProto(string environment, string tier, PoolSettings s) => new()
    {
        Environment = environment,
        Tier = tier,
        HeadroomPercent = s.HeadroomPercent,
        ControlPlaneReserve = s.ControlPlaneReserve,
        DefaultTtlSeconds = s.DefaultTtlSeconds,
        MaxTtlSeconds = s.MaxTtlSeconds,
        LeakSuspectSeconds = s.LeakSuspectSeconds,
        TerminateIdleInTransactionSeconds = s.TerminateIdleInTransactionSeconds,
    };

    public static PoolSettings FromProto(Proto.PoolSettings s) => new(
        s.HeadroomPercent, s.ControlPlaneReserve, s.DefaultTtlSeconds, s.MaxTtlSeconds, s.LeakSuspectSeconds, s.TerminateIdleInTransactionSeconds);

    public static Proto.PoolBudget ToProto(PoolBudget b)
    {
        var budget = new Proto.PoolBudget
        {
            Environment = b.Environment,
            Tier = b.Tier,
            Capacity = b.Capacity,
            ReadOnlyCapacity = b.ReadOnlyCapacity,
            Unmanaged = b.Unmanaged,
            Granted = b.Tenants.Sum(t => t.Granted),
            Primary = b.Primary,
            Settings = ToProto(b.Environment, b.Tier, b.Settings),
            MaxConnections = b.MaxConnections,
        };
        if (b.SampledAt is { } at) budget.SampledAt = Timestamp.FromDateTimeOffset(at);
        budget.Alerts.AddRange(b.Alerts);
        budget.Tenants.AddRange(b.Tenants.Select(t => new Proto.TenantBudget
        {
            Tenant = t.Tenant,
            Granted = t.Granted,
            InUse = t.InUse,
            Idle = t.Idle,
            Waiting = t.Waiting,
            Overruns = t.Overruns,
            LeakSuspects = t.LeakSuspects,
            Leases = t.Leases,
            Connections = t.Connections,
            Weight = t.Plan?.Weight ?? 0,
            Min = t.Plan?.Min ?? 0,
            Max = t.Plan?.Max ?? 0,
            OpenWaitSecondsMax = t.OpenWaitMaxSeconds,
            OpenWaitSecondsMean = t.OpenWaitMeanSeconds,
        }));
        return budget;
    }

    public static Proto.PoolDecision ToProto(PoolDecision d)
    {
        var decision = new Proto.PoolDecision
        {
            Sequence = d.Sequence,
            At = Timestamp.FromDateTimeOffset(d.At),
            Kind = d.Kind.ToString().ToLowerInvariant(),
            Reason = d.Reason,
            Principal = d.Principal,
        };
        decision.Details.AddRange(d.Details);
        return decision;
    }
}
