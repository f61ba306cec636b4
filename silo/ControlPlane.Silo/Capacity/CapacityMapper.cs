using ControlPlane.Grains.Capacity;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Capacity;

/// <summary>Capacity records to their protobuf messages, in one place.</summary>
internal static class CapacityMapper
{
    public static Proto.CapacityView ToProto(CapacityReport report, int historyLimit, string resource)
    {
        var view = new Proto.CapacityView { Environment = report.Environment, Tier = report.Tier, Cost = ToProto(report.Cost) };
        if (report.SampledAt is { } at) view.SampledAt = Timestamp.FromDateTimeOffset(at);
        view.Replicas.AddRange(report.Replicas.Select(ToProto));
        view.Series.AddRange(report.Series.Where(s => resource.Length == 0 || s.Resource == resource).Select(s => ToProto(s, historyLimit)));
        view.Tables.AddRange(report.Tables.Select(t => new Proto.CapacityTable { Schema = t.Schema, Name = t.Name, Bytes = t.Bytes, Rows = t.Rows }));
        view.Tenants.AddRange(report.Tenants.Select(t => new Proto.TenantCapacity
        {
            Tenant = t.Tenant, Bytes = t.Bytes, Measured = t.Measured, SchemaBytes = t.SchemaBytes, SharedBytesEstimate = t.SharedBytes,
        }));
        view.Recommendations.AddRange(report.Recommendations.Select(r => new Proto.CapacityRecommendation
        {
            Kind = r.Kind switch
            {
                RecommendationKind.AddStandby => Proto.RecommendationKind.AddStandby,
                RecommendationKind.RaiseCapacity => Proto.RecommendationKind.RaiseCapacity,
                RecommendationKind.MoveTenant => Proto.RecommendationKind.MoveTenant,
                RecommendationKind.PartitionTable => Proto.RecommendationKind.PartitionTable,
                RecommendationKind.VacuumFreeze => Proto.RecommendationKind.VacuumFreeze,
                _ => Proto.RecommendationKind.Unspecified,
            },
            Subject = r.Subject,
            Reason = r.Reason,
        }));
        return view;
    }

    private static Proto.ReplicaCapacity ToProto(ReplicaCapacity r)
    {
        var m = new Proto.ReplicaCapacity
        {
            Replica = r.Replica,
            Primary = r.Primary,
            DatabaseBytes = r.DatabaseBytes,
            Connections = r.Connections,
            MaxConnections = r.MaxConnections,
            Tps = r.Tps,
            WalBytesPerSecond = r.WalBytesPerSecond,
            XidAge = r.XidAge,
            Error = r.Error,
        };
        if (r.DiskTotalBytes is { } total) m.DiskTotalBytes = total;
        if (r.DiskFreeBytes is { } free) m.DiskFreeBytes = free;
        if (r.DiskFreeRatio is { } ratio) m.DiskFreeRatio = ratio;
        if (r.WalDiskTotalBytes is { } walTotal) m.WalDiskTotalBytes = walTotal;
        if (r.WalDiskFreeBytes is { } walFree) m.WalDiskFreeBytes = walFree;
        if (r.WalDiskFreeRatio is { } walRatio) m.WalDiskFreeRatio = walRatio;
        return m;
    }

    private static Proto.CapacitySeries ToProto(CapacitySeries s, int historyLimit)
    {
        var m = new Proto.CapacitySeries
        {
            Resource = s.Resource,
            Replica = s.Replica,
            Tenant = s.Tenant,
            Current = s.Current,
            LimitSource = s.LimitSource,
            Resolution = Duration.FromTimeSpan(s.Resolution),
            Forecast = ToProto(s.Forecast),
        };
        if (s.Limit is { } limit) m.Limit = limit;
        m.History.AddRange(s.History.TakeLast(historyLimit).Select(p => new Proto.CapacityPoint { At = Timestamp.FromDateTimeOffset(p.At), Value = p.Value, Count = p.Count }));
        return m;
    }

    private static Proto.Forecast ToProto(Forecast f)
    {
        var m = new Proto.Forecast
        {
            Method = f.Method switch
            {
                ForecastMethod.Linear => Proto.ForecastMethod.Linear,
                ForecastMethod.HoltWinters => Proto.ForecastMethod.HoltWinters,
                _ => Proto.ForecastMethod.None,
            },
            Level = f.Level,
            SlopePerDay = f.SlopePerDay,
            Seasonal = f.Seasonal,
        };
        if (f.AsOf != DateTimeOffset.MinValue) m.AsOf = Timestamp.FromDateTimeOffset(f.AsOf);
        if (f.DaysToLimit is { } days) m.DaysToLimit = days;
        if (f.DaysLow is { } low) m.DaysLow = low;
        if (f.DaysHigh is { } high) m.DaysHigh = high;
        if (!double.IsNaN(f.LinearHoldoutError)) m.LinearHoldoutError = f.LinearHoldoutError;
        if (!double.IsNaN(f.HoltWintersHoldoutError)) m.HoltWintersHoldoutError = f.HoltWintersHoldoutError;
        m.Projection.AddRange(f.Projection.Select(p => new Proto.ForecastPoint { At = Timestamp.FromDateTimeOffset(p.At), Value = p.Value, Low = p.Low, High = p.High }));
        return m;
    }

    private static Proto.CapacityCost ToProto(CapacityCost c) => new()
    {
        PricePerGbMonth = c.PricePerGbMonth,
        PricePerVcpuHour = c.PricePerVcpuHour,
        Replicas = c.Replicas,
        Vcpus = c.Vcpus,
        StorageGb = c.StorageGb,
        StoragePerMonth = c.StoragePerMonth,
        ComputePerMonth = c.ComputePerMonth,
        TotalPerMonth = c.TotalPerMonth,
        StorageGbIn30Days = c.StorageGbIn30Days,
        TotalPerMonthIn30Days = c.TotalPerMonthIn30Days,
    };
}
