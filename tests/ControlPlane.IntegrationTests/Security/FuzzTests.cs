using System.Collections.Concurrent;
using System.Diagnostics;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Xunit;

namespace ControlPlane.IntegrationTests.Security;

/// <summary>
/// Thousands of generated requests to every RPC, mostly as an admin (so handlers, not just the door, see them):
/// no INTERNAL, every refusal a documented code with a message, and the fleet healthy afterwards.
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class FuzzTests(SiloFixture fixture)
{
    private const int RequestsPerRpc = 200;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(50);

    private static readonly StatusCode[] Acceptable =
    [
        StatusCode.OK, StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.PermissionDenied, StatusCode.Unauthenticated,
        StatusCode.FailedPrecondition, StatusCode.ResourceExhausted, StatusCode.OutOfRange,
    ];

    [Fact]
    public async Task Generated_requests_never_crash_the_gateway_and_are_refused_precisely()
    {
        var viewer = await SecurityTokens.CreateAsync(fixture, "fuzz-viewer", Role.Viewer);
        var credentials = new[] { fixture.AdminToken, fixture.AdminToken, fixture.AdminToken, fixture.AdminToken, viewer.Token, null, "garbage", "cpt_" };
        var methods = DynamicRpc.AllMethods();
        var work = new ConcurrentQueue<(Google.Protobuf.Reflection.MethodDescriptor Method, int Seed)>(
            methods.SelectMany(m => Enumerable.Range(0, RequestsPerRpc).Select(i => (m, HashCode.Combine(m.FullName, i)))).OrderBy(w => w.Item2));
        var failures = new ConcurrentBag<string>();
        var counts = new ConcurrentDictionary<StatusCode, int>();
        var sent = 0;
        var clock = Stopwatch.StartNew();

        async Task Worker()
        {
            while (clock.Elapsed < Budget && work.TryDequeue(out var item))
            {
                var fuzz = new RequestFuzz(item.Seed);
                var request = fuzz.Request(item.Method.InputType);
                var token = credentials[((item.Seed % credentials.Length) + credentials.Length) % credentials.Length];
                var status = await DynamicRpc.CallAsync(fixture.Invoker(token), item.Method, request, TimeSpan.FromMilliseconds(300));
                Interlocked.Increment(ref sent);
                counts.AddOrUpdate(status.StatusCode, 1, (_, n) => n + 1);
                if (!Acceptable.Contains(status.StatusCode) || (status.StatusCode != StatusCode.OK && string.IsNullOrWhiteSpace(status.Detail)))
                    failures.Add($"{item.Method.FullName} seed {item.Seed}: {status.StatusCode} '{status.Detail}' for {Show(request)}");
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(Worker)));

        Assert.True(sent >= 2000, $"only {sent} requests sent in {Budget}");
        Assert.True(failures.IsEmpty,
            $"{failures.Count} of {sent} requests answered badly (codes: {string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}"))}):{Environment.NewLine}"
            + string.Join(Environment.NewLine, failures.Take(30)));

        var health = await new Health.HealthClient(fixture.Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
    }

    private static string Show(Google.Protobuf.IMessage request)
    {
        var text = request.ToString() ?? "";
        return text.Length > 300 ? text[..300] + "…" : text;
    }
}
