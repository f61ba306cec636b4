using System.Security.Cryptography;
using ControlPlane.Grains.Changes;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Changes;

/// <summary>Schema change requests. Validates every field, asks the change's grain, maps back.</summary>
internal sealed class ChangeGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.ChangeService.ChangeServiceBase
{
    private const int MaxText = 500;
    private const int MaxFiles = 1000;
    private const long MaxSetBytes = 4L * 1024 * 1024;
    private static readonly TimeSpan WatchPoll = TimeSpan.FromMilliseconds(250);
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.ChangeInfo> SubmitChange(Proto.SubmitChangeRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tier = RequestValidation.Name("tier", request.Tier);
        await TierLookup.RequireAsync(cluster, env, tier);
        var id = request.ChangeId.Length == 0 ? NewId(tier) : RequestValidation.Name("change_id", request.ChangeId);
        var description = Text("description", request.Description, required: true);
        if (request.Files.Count == 0 || request.Files.Count > MaxFiles)
            throw RequestValidation.Invalid($"files has {request.Files.Count} entries; expected 1 to {MaxFiles} V<version>__<name>.sql (and U<version>__<name>.sql) files.");
        var total = request.Files.Sum(f => (long)f.Content.Length);
        if (total > MaxSetBytes) throw RequestValidation.Invalid($"files total {total} bytes; expected at most {MaxSetBytes}.");
        var files = new List<ChangeFile>();
        for (var i = 0; i < request.Files.Count; i++)
        {
            var name = request.Files[i].Name;
            if (name.Length == 0 || name.Length > 200 || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal))
                throw RequestValidation.Invalid($"files[{i}].name '{RequestValidation.Shown(name)}' is invalid; expected a file name (no directory) like V1__create_orders.sql.");
            files.Add(new ChangeFile(name, request.Files[i].Content.ToByteArray()));
        }
        if (files.GroupBy(f => f.FileName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw RequestValidation.Invalid($"files names '{RequestValidation.Shown(twice.Key)}' more than once; expected each file once.");
        return await Call(env, id, g => g.Submit(tier, files, description, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.ChangeInfo> GetChange(Proto.ChangeRequest request, ServerCallContext context)
    {
        var (env, id) = Key(request.Environment, request.ChangeId);
        return ChangeMapper.ToProto(await Grain(env, id).Get() ?? throw NotFound(env, id));
    }

    public override async Task<Proto.ListChangesResponse> ListChanges(Proto.ListChangesRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tiers = request.Tier.Length > 0
            ? [(await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", request.Tier))).Tier]
            : await cluster.GetGrain<Grains.Fleet.IFleetGrain>(env).ListTiers();
        var response = new Proto.ListChangesResponse();
        foreach (var tier in tiers)
        {
            foreach (var id in await cluster.GetGrain<IChangeLedgerGrain>(Grains.Fleet.FleetKeys.Tier(env, tier)).List())
            {
                if (await Grain(env, id).Get() is { } view) response.Changes.Add(ChangeMapper.ToProto(view with { History = [], Plan = [], Findings = [] }));
            }
        }
        return response;
    }

    public override Task<Proto.ChangeInfo> ApproveChange(Proto.ApproveChangeRequest request, ServerCallContext context)
    {
        var (env, id) = Key(request.Environment, request.ChangeId);
        var waiver = Text("waiver", request.Waiver, required: false);
        return Call(env, id, g => g.Approve(CallerIdentity.Of(context), waiver));
    }

    public override Task<Proto.ChangeInfo> RolloutChange(Proto.RolloutChangeRequest request, ServerCallContext context)
    {
        var (env, id) = Key(request.Environment, request.ChangeId);
        var d = ChangeStrategy.Default;
        var strategy = new ChangeStrategy(
            request.HasCanaryTargets ? request.CanaryTargets : d.CanaryTargets,
            request.HasBatchSize ? request.BatchSize : d.BatchSize,
            Span("pause", request.Pause) ?? d.Pause,
            request.HasConcurrency ? request.Concurrency : d.Concurrency,
            Span("lock_timeout", request.LockTimeout) ?? d.LockTimeout,
            Span("statement_timeout", request.StatementTimeout) ?? d.StatementTimeout);
        var errors = strategy.Validate();
        if (errors.Count > 0) throw RequestValidation.Invalid(string.Join(" ", errors));
        return Call(env, id, g => g.Rollout(strategy, CallerIdentity.Of(context)));
    }

    public override Task<Proto.ChangeInfo> HaltChange(Proto.HaltChangeRequest request, ServerCallContext context)
    {
        var (env, id) = Key(request.Environment, request.ChangeId);
        var reason = Text("reason", request.Reason, required: true);
        return Call(env, id, g => g.Halt(reason, CallerIdentity.Of(context)));
    }

    public override Task<Proto.ChangeInfo> ResumeChange(Proto.ChangeRequest request, ServerCallContext context)
    {
        var (env, id) = Key(request.Environment, request.ChangeId);
        return Call(env, id, g => g.Resume(CallerIdentity.Of(context)));
    }

    public override Task<Proto.ChangeInfo> RollbackChange(Proto.ChangeRequest request, ServerCallContext context)
    {
        var (env, id) = Key(request.Environment, request.ChangeId);
        return Call(env, id, g => g.Rollback(CallerIdentity.Of(context)));
    }

    public override Task<Proto.ChangeInfo> TagChange(Proto.TagChangeRequest request, ServerCallContext context)
    {
        var (env, id) = Key(request.Environment, request.ChangeId);
        var tag = RequestValidation.Name("tag", request.Tag);
        return Call(env, id, g => g.Tag(tag, CallerIdentity.Of(context)));
    }

    public override async Task WatchChange(Proto.ChangeRequest request, IServerStreamWriter<Proto.ChangeInfo> responseStream, ServerCallContext context)
    {
        var (env, id) = Key(request.Environment, request.ChangeId);
        var grain = Grain(env, id);
        var view = await grain.Get() ?? throw NotFound(env, id);
        await responseStream.WriteAsync(ChangeMapper.ToProto(view), context.CancellationToken);
        while (!context.CancellationToken.IsCancellationRequested)
        {
            await Task.Delay(WatchPoll, context.CancellationToken);
            if (await grain.Get() is not { } next || next.Version == view.Version) continue;
            view = next;
            await responseStream.WriteAsync(ChangeMapper.ToProto(view), context.CancellationToken);
        }
    }

    private async Task<Proto.ChangeInfo> Call(string env, string id, Func<IChangeGrain, Task<ChangeView>> call)
    {
        try
        {
            return ChangeMapper.ToProto(await call(Grain(env, id)));
        }
        catch (ChangeRefusedException e)
        {
            var code = e.Kind switch
            {
                ChangeRefusalKind.Invalid => StatusCode.InvalidArgument,
                ChangeRefusalKind.Denied => StatusCode.PermissionDenied,
                ChangeRefusalKind.NotFound => StatusCode.NotFound,
                ChangeRefusalKind.Exists => StatusCode.AlreadyExists,
                _ => StatusCode.FailedPrecondition,
            };
            throw new RpcException(new Status(code, e.Message));
        }
    }

    private static string Text(string field, string value, bool required)
    {
        if ((required && string.IsNullOrWhiteSpace(value)) || value.Length > MaxText || value.Any(char.IsControl))
        {
            throw RequestValidation.Invalid(
                $"{field} '{RequestValidation.Shown(value)}' is invalid; expected {(required ? "1" : "0")} to {MaxText} characters without control characters.");
        }
        return value;
    }

    private static TimeSpan? Span(string field, Google.Protobuf.WellKnownTypes.Duration? value)
    {
        if (value is null) return null;
        // Nanos beyond a second is malformed protobuf (ToTimeSpan would throw): refuse it like any other bad value.
        if (value.Seconds < 0 || value.Nanos < 0 || value.Nanos > 999_999_999 || value.Seconds > 7 * 24 * 3600)
            throw RequestValidation.Invalid(
                $"{field} (seconds {value.Seconds}, nanos {value.Nanos}) is out of range; expected a non-negative duration of at most 7 days (nanos 0 to 999999999).");
        return value.ToTimeSpan();
    }

    private static string NewId(string tier) =>
        $"{tier}-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";

    private (string Env, string Id) Key(string environment, string changeId) => (Env(environment), RequestValidation.Name("change_id", changeId));

    private static RpcException NotFound(string env, string id) => RequestValidation.NotFound($"change '{id}' not found in environment '{env}'.");

    private string Env(string environment) => RequestValidation.Environment(environment, _defaultEnvironment);

    private IChangeGrain Grain(string env, string id) => cluster.GetGrain<IChangeGrain>(ChangeKeys.Of(env, id));
}
