using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Verify;
using ControlPlane.Postgres.Verify;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Verify;

/// <summary>A tier's release checks (cpctl verify). Validates, asks the tier's verify grain, maps back.</summary>
internal sealed class VerifyGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.VerifyService.VerifyServiceBase
{
    private const int DefaultLoadSeconds = 5;
    private const int MaxLoadSeconds = 300;
    private const int DefaultClients = 4;
    private const int MaxClients = 64;
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.VerifyReport> VerifyTier(Proto.VerifyTierRequest request, ServerCallContext context)
    {
        if (request.LoadSeconds is < 0 or > MaxLoadSeconds)
            throw RequestValidation.Invalid($"load_seconds {request.LoadSeconds} is out of range; expected 0 (default {DefaultLoadSeconds}) to {MaxLoadSeconds}.");
        if (request.LoadClients is < 0 or > MaxClients)
            throw RequestValidation.Invalid($"load_clients {request.LoadClients} is out of range; expected 0 (default {DefaultClients}) to {MaxClients}.");
        var driver = request.LoadDriver.Length == 0 ? "auto" : request.LoadDriver;
        if (!VerifyRequest.LoadDrivers.Contains(driver))
            throw RequestValidation.Invalid($"load_driver '{request.LoadDriver}' is unknown; expected one of {string.Join(", ", VerifyRequest.LoadDrivers)}.");
        if (driver == "pgbench" && WriteLoad.PgbenchPath() is null)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "load_driver 'pgbench': pgbench is not installed beside the PostgreSQL binaries of this silo; use 'built-in' or install the PostgreSQL client tools."));
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var run = new VerifyRequest(TimeSpan.FromSeconds(request.LoadSeconds == 0 ? DefaultLoadSeconds : request.LoadSeconds),
            request.LoadClients == 0 ? DefaultClients : request.LoadClients, request.SkipSwitchover, driver);
        return ToProto(await Grain(env, tier).Run(run, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.VerifyReport> GetVerifyReport(Proto.GetVerifyReportRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        return ToProto(await Grain(env, tier).GetLast()
            ?? throw RequestValidation.NotFound($"tier '{tier}' has not been verified yet; run cpctl verify {tier}."));
    }

    private static Proto.VerifyReport ToProto(VerifyReport report)
    {
        var message = new Proto.VerifyReport
        {
            Environment = report.Environment,
            Tier = report.Tier,
            StartedAt = Timestamp.FromDateTimeOffset(report.StartedAt),
            Duration = Duration.FromTimeSpan(report.Duration),
            Passed = report.Passed,
        };
        message.Steps.AddRange(report.Steps.Select(s =>
        {
            var step = new Proto.VerifyStep
            {
                Name = s.Name,
                Outcome = s.Outcome switch
                {
                    VerifyOutcome.Passed => Proto.VerifyOutcome.Passed,
                    VerifyOutcome.Failed => Proto.VerifyOutcome.Failed,
                    _ => Proto.VerifyOutcome.Skipped,
                },
                Duration = Duration.FromTimeSpan(s.Duration),
                Detail = s.Detail,
            };
            foreach (var (name, value) in s.Measurements) step.Measurements[name] = value;
            return step;
        }));
        return message;
    }

    private IVerifyGrain Grain(string env, string tier) => cluster.GetGrain<IVerifyGrain>(FleetKeys.Tier(env, tier));

    private async Task<(string Env, string Tier)> TierAsync(string environment, string tier)
    {
        var env = RequestValidation.Environment(environment, _defaultEnvironment);
        return await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", tier));
    }
}
