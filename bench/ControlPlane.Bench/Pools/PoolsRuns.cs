using System.Diagnostics;
using ControlPlane.Client;
using ControlPlane.Client.Pools;
using ControlPlane.Grains.Pools;
using Grpc.Core;
using Npgsql;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Bench.Pools;

public sealed record AllocationResult(int Tenants, int Capacity, int Iterations, double MeanMs, double P50Ms, double MaxMs, int Granted)
{
    public string Render() => $"allocate {Tenants} tenants over {Capacity} connections: mean {MeanMs:0.000} ms, p50 {P50Ms:0.000} ms, max {MaxMs:0.000} ms ({Iterations} runs, {Granted} granted)";
}

public sealed record LeaseResult(int Concurrency, double Seconds, long Cycles, long Calls, long Errors, double CallsPerSecond, double CyclesPerSecond)
{
    public string Render() => $"lease acquire+renew+release: {Cycles} cycles ({Calls} calls) in {Seconds:0.0}s with {Concurrency} callers: {CallsPerSecond:0} calls/s, {CyclesPerSecond:0} cycles/s, {Errors} errors";
}

public sealed record OverheadResult(int Queries, double PlainMeanUs, double ManagedMeanUs, double Ratio, int Grant)
{
    public string Render() => $"SELECT 1 x {Queries}: plain Npgsql {PlainMeanUs:0.0} us, ControlPlaneDataSource {ManagedMeanUs:0.0} us, ratio {Ratio:0.000} (grant {Grant})";
}

/// <summary>The three pool benchmarks. Measurements only: nothing here asserts a bound.</summary>
public static class PoolsRuns
{
    public static AllocationResult Allocation(int tenants, int capacity, int iterations)
    {
        var random = new Random(42);
        var demands = Enumerable.Range(0, tenants)
            .Select(i => new PoolDemand($"t{i:D5}", random.Next(1, 10), random.Next(0, 2), random.Next(2, 40), random.Next(1, 60))).ToList();
        var granted = 0;
        for (var i = 0; i < 5; i++) granted = PoolAllocator.Allocate(capacity, demands).Total;
        var times = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            var watch = Stopwatch.StartNew();
            granted = PoolAllocator.Allocate(capacity, demands).Total;
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return new AllocationResult(tenants, capacity, iterations, times.Average(), times[iterations / 2], times[^1], granted);
    }

    public static async Task<LeaseResult> LeasesAsync(ControlPlaneClient client, string tier, string tenant, int concurrency, TimeSpan duration, CancellationToken ct)
    {
        long cycles = 0, calls = 0, errors = 0;
        var watch = Stopwatch.StartNew();
        async Task Caller(int n)
        {
            while (watch.Elapsed < duration && !ct.IsCancellationRequested)
            {
                try
                {
                    var lease = await client.Pools.AcquireLeaseAsync(new Proto.AcquireLeaseRequest { Tier = tier, Tenant = tenant, Service = $"bench-{n}", Requested = 1 }, cancellationToken: ct);
                    var request = new Proto.LeaseRequest { Tenant = tenant, LeaseId = lease.LeaseId };
                    for (var i = 0; i < 8; i++) await client.Pools.RenewLeaseAsync(request, cancellationToken: ct);
                    await client.Pools.ReleaseLeaseAsync(request, cancellationToken: ct);
                    Interlocked.Add(ref calls, 10);
                    Interlocked.Increment(ref cycles);
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(Caller));
        var seconds = watch.Elapsed.TotalSeconds;
        return new LeaseResult(concurrency, seconds, cycles, calls, errors, calls / seconds, cycles / seconds);
    }

    public static async Task<OverheadResult> OverheadAsync(ControlPlaneClient client, string tier, string tenant, string user, string password, int queries, CancellationToken ct)
    {
        var template = new NpgsqlConnectionStringBuilder { Username = user, Password = password, Database = "postgres" };
        await using var managed = await ControlPlaneDataSource.CreateAsync(client, new ControlPlaneDataSourceOptions
        {
            Tier = tier, Tenant = tenant, Service = "bench-overhead", Requested = 4, Connection = template,
        }, ct);
        var primary = managed.Primary.Split(':');
        var plainCsb = new NpgsqlConnectionStringBuilder(template.ConnectionString) { Host = primary[0], Port = int.Parse(primary[1], System.Globalization.CultureInfo.InvariantCulture), MaxPoolSize = 4 };
        await using var plain = NpgsqlDataSource.Create(plainCsb);
        double plainTicks = 0, managedTicks = 0;
        // Alternating rounds, so drift on the machine hits both sides alike.
        const int Round = 500;
        for (var done = 0; done < queries; done += Round)
        {
            plainTicks += await TimeAsync(() => plain.OpenConnectionAsync(ct).AsTask(), Round, ct);
            managedTicks += await TimeAsync(() => managed.OpenConnectionAsync(ct), Round, ct);
        }
        var plainUs = plainTicks / queries * 1e6 / Stopwatch.Frequency;
        var managedUs = managedTicks / queries * 1e6 / Stopwatch.Frequency;
        return new OverheadResult(queries, plainUs, managedUs, managedUs / plainUs, managed.Grant);
    }

    private static async Task<double> TimeAsync(Func<Task<NpgsqlConnection>> open, int count, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            await using var connection = await open();
            await using var cmd = new NpgsqlCommand("SELECT 1", connection);
            await cmd.ExecuteScalarAsync(ct);
        }
        return Stopwatch.GetTimestamp() - start;
    }
}
