using System.Globalization;
using System.Text;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Capacity;

/// <summary>Pure text views of a capacity view: replicas, series with their forecasts, a chart, recommendations, cost.</summary>
internal static class CapacityRendering
{
    public const int ChartWidth = 64;
    public const int ChartHeight = 12;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string View(CapacityView view, string? resource)
    {
        var b = new StringBuilder();
        b.Append(Invariant, $"tier {view.Tier} ({view.Environment}): ");
        b.Append(view.SampledAt is null ? "not sampled yet\n" : $"sampled {view.SampledAt.ToDateTimeOffset():yyyy-MM-dd HH:mm:ss}Z\n");
        if (view.Replicas.Count > 0)
        {
            b.Append(Invariant, $"\n{"REPLICA",-12} {"ROLE",-8} {"DATABASES",11} {"CONNECTIONS",11} {"TPS",9} {"WAL/S",11} {"XID AGE",13}  DISK FREE\n");
            foreach (var r in view.Replicas)
            {
                if (r.Error.Length > 0)
                {
                    b.Append(Invariant, $"{r.Replica,-12} {r.Error}\n");
                    continue;
                }
                var disk = r.HasDiskTotalBytes ? $"{Bytes(r.DiskFreeBytes)} of {Bytes(r.DiskTotalBytes)} ({r.DiskFreeRatio:0%})" : "not visible";
                if (r.HasWalDiskTotalBytes) disk += $", pg_wal {Bytes(r.WalDiskFreeBytes)} of {Bytes(r.WalDiskTotalBytes)} ({r.WalDiskFreeRatio:0%})";
                b.Append(Invariant, $"{r.Replica,-12} {(r.Primary ? "primary" : "standby"),-8} {Bytes(r.DatabaseBytes),11} {$"{r.Connections}/{r.MaxConnections}",11} {r.Tps,9:0.0} {Bytes(r.WalBytesPerSecond),11} {r.XidAge,13:N0}  {disk}\n");
            }
        }
        if (view.Series.Count > 0)
        {
            b.Append(Invariant, $"\n{"SERIES",-28} {"CURRENT",12} {"LIMIT",12} {"MODEL",-13} DAYS TO LIMIT (95 %)\n");
            foreach (var s in view.Series)
            {
                var name = SeriesName(s, " ");
                var limit = s.HasLimit ? Value(s.Resource, s.Limit) : "-";
                b.Append(Invariant, $"{name,-28} {Value(s.Resource, s.Current),12} {limit,12} {Model(s.Forecast.Method),-13} {Days(s)}\n");
            }
            var charted = view.Series.FirstOrDefault(s => s.Resource == (string.IsNullOrEmpty(resource) ? "database_bytes" : resource)) ?? view.Series[0];
            b.Append('\n').Append(Chart(charted));
        }
        if (view.Recommendations.Count > 0)
        {
            b.Append("\nRECOMMENDATIONS\n");
            foreach (var r in view.Recommendations)
                b.Append(Invariant, $"  {r.Kind.ToString().ToLowerInvariant(),-16} {r.Subject}: {r.Reason}\n");
        }
        else b.Append("\nno recommendations\n");
        if (view.Tables.Count > 0)
        {
            b.Append("\nLARGEST TABLES\n");
            foreach (var t in view.Tables.Take(5)) b.Append(Invariant, $"  {$"{t.Schema}.{t.Name}",-40} {Bytes(t.Bytes),11} {t.Rows,14:N0} rows\n");
        }
        if (view.Tenants.Count > 0)
        {
            b.Append("\nTENANTS\n");
            foreach (var t in view.Tenants)
            {
                var size = !t.Measured ? "not measured" : t.SharedBytesEstimate > 0 ? $"{Bytes(t.Bytes)} (schema {Bytes(t.SchemaBytes)}, shared ~{Bytes(t.SharedBytesEstimate)})" : Bytes(t.Bytes);
                b.Append(Invariant, $"  {t.Tenant,-24} {size}\n");
            }
        }
        var c = view.Cost;
        if (c is not null && (c.PricePerGbMonth > 0 || c.PricePerVcpuHour > 0))
        {
            b.Append(Invariant, $"\nCOST per month: storage {c.StorageGb:0.##} GiB x {c.Replicas} replicas = {c.StoragePerMonth:0.00}, compute {c.Vcpus:0.##} vCPU = {c.ComputePerMonth:0.00}, total {c.TotalPerMonth:0.00}; ");
            b.Append(Invariant, $"in 30 days {c.StorageGbIn30Days:0.##} GiB, total {c.TotalPerMonthIn30Days:0.00}\n");
        }
        else b.Append("\nCOST: no prices configured (ControlPlane:Capacity:Tiers:<tier>:PricePerGbMonth, PricePerVcpuHour, VcpusPerReplica)\n");
        return b.ToString();
    }

    /// <summary>The resource and what it is of: a replica or a tenant (tier-wide series: the resource alone).</summary>
    public static string SeriesName(CapacitySeries s, string separator) =>
        s.Tenant.Length > 0 ? $"{s.Resource}{separator}{s.Tenant}" : s.Replica.Length > 0 ? $"{s.Resource}{separator}{s.Replica}" : s.Resource;

    /// <summary>
    /// The series' history (*) and forecast (.) with its 95 % band (:) and its limit (=) on one time axis: history on
    /// the left, projection on the right. Rows are values, top highest.
    /// </summary>
    public static string Chart(CapacitySeries s)
    {
        var name = SeriesName(s, " on ");
        var history = s.History.Select(p => (At: p.At.ToDateTimeOffset(), p.Value)).ToList();
        var projection = s.Forecast.Projection.Select(p => (At: p.At.ToDateTimeOffset(), p.Value, p.Low, p.High)).ToList();
        if (history.Count == 0) return $"CHART {name}: no history yet\n";
        var first = history[0].At;
        var last = projection.Count > 0 ? projection[^1].At : history[^1].At;
        var values = history.Select(p => p.Value).Concat(projection.SelectMany(p => new[] { p.Low, p.High })).ToList();
        if (s.HasLimit) values.Add(s.Limit);
        var (min, max) = (values.Min(), values.Max());
        if (max - min < 1e-9) (min, max) = (min - 1, max + 1);
        var grid = Enumerable.Range(0, ChartHeight).Select(_ => Enumerable.Repeat(' ', ChartWidth).ToArray()).ToArray();
        var span = Math.Max(1, (last - first).Ticks);
        int Column(DateTimeOffset at) => (int)Math.Clamp((double)(at - first).Ticks / span * (ChartWidth - 1), 0, ChartWidth - 1);
        int Row(double v) => (int)Math.Clamp(Math.Round((max - v) / (max - min) * (ChartHeight - 1)), 0, ChartHeight - 1);
        void Put(DateTimeOffset at, double v, char c, bool over = true)
        {
            ref var cell = ref grid[Row(v)][Column(at)];
            if (over || cell == ' ') cell = c;
        }
        if (s.HasLimit) for (var x = 0; x < ChartWidth; x++) grid[Row(s.Limit)][x] = '=';
        foreach (var p in projection)
        {
            Put(p.At, p.Low, ':', over: false);
            Put(p.At, p.High, ':', over: false);
            Put(p.At, p.Value, '.');
        }
        foreach (var p in history) Put(p.At, p.Value, '*');
        var top = Value(s.Resource, max);
        var bottom = Value(s.Resource, min);
        var pad = Math.Max(top.Length, bottom.Length);
        var b = new StringBuilder();
        b.Append(Invariant, $"CHART {name}: history *, forecast ., 95 % band :, limit =\n");
        for (var y = 0; y < ChartHeight; y++)
        {
            var label = y == 0 ? top : y == ChartHeight - 1 ? bottom : "";
            b.Append(label.PadLeft(pad)).Append(" |").Append(new string(grid[y]).TrimEnd()).Append('\n');
        }
        b.Append(new string(' ', pad)).Append(" +").Append(new string('-', ChartWidth)).Append('\n');
        var from = first.ToString("yyyy-MM-dd HH:mm:ss", Invariant);
        var to = last.ToString("yyyy-MM-dd HH:mm:ss", Invariant);
        b.Append(new string(' ', pad + 2)).Append(from).Append(to.PadLeft(Math.Max(1, ChartWidth - from.Length))).Append(" UTC\n");
        return b.ToString();
    }

    private static string Days(CapacitySeries s)
    {
        var f = s.Forecast;
        if (!s.HasLimit) return "no limit";
        if (f.Method == ForecastMethod.None) return "too little history";
        if (!f.HasDaysToLimit) return "not within the horizon";
        var high = f.HasDaysHigh ? Number(f.DaysHigh) : "never";
        return $"{Number(f.DaysToLimit)} ({Number(f.DaysLow)} to {high})";
    }

    private static string Model(ForecastMethod method) => method switch
    {
        ForecastMethod.Linear => "linear",
        ForecastMethod.HoltWinters => "holt-winters",
        _ => "-",
    };

    private static string Value(string resource, double value) =>
        resource is "database_bytes" or "disk_used_bytes" or "wal_bytes_per_second" ? Bytes(value) : Number(value);

    /// <summary>Days with enough digits to tell 0.004 from 0.04 (a test fleet grows in minutes).</summary>
    private static string Number(double value) =>
        Math.Abs(value) >= 100 ? value.ToString("N0", Invariant) : value.ToString(Math.Abs(value) >= 1 ? "0.##" : "0.####", Invariant);

    private static string Bytes(double bytes) =>
        Math.Abs(bytes) >= 1024d * 1024 * 1024 ? $"{(bytes / (1024d * 1024 * 1024)).ToString("0.##", Invariant)} GiB"
        : Math.Abs(bytes) >= 1024d * 1024 ? $"{(bytes / (1024d * 1024)).ToString("0.##", Invariant)} MiB"
        : $"{(bytes / 1024).ToString("0.#", Invariant)} KiB";
}
