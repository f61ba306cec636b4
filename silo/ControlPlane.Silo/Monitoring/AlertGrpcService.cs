using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Monitoring;

/// <summary>Alert rules, silences, active alerts, history, the watch stream and the webhook of an environment.</summary>
internal sealed class AlertGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.AlertService.AlertServiceBase
{
    private static readonly TimeSpan WatchPoll = TimeSpan.FromMilliseconds(500);
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.ListAlertsResponse> ListAlerts(Proto.ListAlertsRequest request, ServerCallContext context)
    {
        var grain = await AlertsAsync(request.Environment);
        var silences = await grain.GetSilences();
        var response = new Proto.ListAlertsResponse();
        response.Alerts.AddRange((await grain.GetActive()).Select(a => AlertMapper.ToProto(a, AlertPolicy.Silenced(a.Key, silences, DateTimeOffset.UtcNow))));
        return response;
    }

    public override async Task WatchAlerts(Proto.WatchAlertsRequest request, IServerStreamWriter<Proto.AlertEvent> responseStream, ServerCallContext context)
    {
        if (request.AfterVersion < 0) throw RequestValidation.Invalid($"after_version {request.AfterVersion} is negative; expected 0 or a version seen before.");
        var grain = await AlertsAsync(request.Environment);
        var version = request.AfterVersion;
        if (version == 0)
        {
            var page = await grain.GetEvents(long.MaxValue, 1);
            var silences = await grain.GetSilences();
            foreach (var alert in await grain.GetActive())
            {
                await responseStream.WriteAsync(AlertMapper.Snapshot(alert, page.LastVersion, AlertPolicy.Silenced(alert.Key, silences, DateTimeOffset.UtcNow)), context.CancellationToken);
            }
            version = page.LastVersion;
        }
        while (!context.CancellationToken.IsCancellationRequested)
        {
            var page = await grain.GetEvents(version, 200);
            foreach (var e in page.Events) await responseStream.WriteAsync(AlertMapper.ToProto(e), context.CancellationToken);
            if (page.Events.Count > 0) version = page.Events[^1].Version;
            else await Task.Delay(WatchPoll, context.CancellationToken);
        }
    }

    public override async Task<Proto.ListAlertRulesResponse> ListAlertRules(Proto.ListAlertRulesRequest request, ServerCallContext context)
    {
        var rules = await (await AlertsAsync(request.Environment)).GetRules();
        var response = new Proto.ListAlertRulesResponse();
        response.Rules.AddRange(rules.Select(AlertMapper.ToProto));
        return response;
    }

    public override async Task<Proto.AlertRule> PutAlertRule(Proto.PutAlertRuleRequest request, ServerCallContext context)
    {
        var grain = await AlertsAsync(request.Environment);
        var rule = AlertMapper.FromProto(request.Rule);
        return AlertMapper.ToProto(await grain.PutRule(rule, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.DeleteAlertRuleResponse> DeleteAlertRule(Proto.DeleteAlertRuleRequest request, ServerCallContext context)
    {
        var grain = await AlertsAsync(request.Environment);
        if (string.IsNullOrEmpty(request.Name)) throw RequestValidation.Invalid("name is required; expected the name of a rule of the environment.");
        if (!await grain.DeleteRule(request.Name, CallerIdentity.Of(context)))
            throw RequestValidation.NotFound($"rule '{RequestValidation.Shown(request.Name)}' is not one of the environment's own rules (defaults cannot be deleted; disable them with enabled=false).");
        return new Proto.DeleteAlertRuleResponse { Name = request.Name };
    }

    public override async Task<Proto.ListSilencesResponse> ListSilences(Proto.ListSilencesRequest request, ServerCallContext context)
    {
        var response = new Proto.ListSilencesResponse();
        response.Silences.AddRange((await (await AlertsAsync(request.Environment)).GetSilences()).Select(s => AlertMapper.ToProto(s, DateTimeOffset.UtcNow)));
        return response;
    }

    public override async Task<Proto.Silence> CreateSilence(Proto.CreateSilenceRequest request, ServerCallContext context)
    {
        var grain = await AlertsAsync(request.Environment);
        var (starts, ends) = AlertMapper.SilenceWindow(request, DateTimeOffset.UtcNow);
        var silence = await grain.AddSilence(AlertMapper.Matchers(request.Matchers), starts, ends, request.Comment, CallerIdentity.Of(context));
        return AlertMapper.ToProto(silence, DateTimeOffset.UtcNow);
    }

    public override async Task<Proto.Silence> ExpireSilence(Proto.ExpireSilenceRequest request, ServerCallContext context)
    {
        var grain = await AlertsAsync(request.Environment);
        if (string.IsNullOrEmpty(request.Id)) throw RequestValidation.Invalid("id is required; expected a silence id such as s1.");
        if (!await grain.ExpireSilence(request.Id, CallerIdentity.Of(context)))
            throw RequestValidation.NotFound($"silence '{RequestValidation.Shown(request.Id)}' not found or already ended.");
        var silence = (await grain.GetSilences()).Single(s => s.Id == request.Id);
        return AlertMapper.ToProto(silence, DateTimeOffset.UtcNow);
    }

    public override async Task<Proto.GetAlertHistoryResponse> GetAlertHistory(Proto.GetAlertHistoryRequest request, ServerCallContext context)
    {
        if (request.AfterVersion < 0) throw RequestValidation.Invalid($"after_version {request.AfterVersion} is negative; expected 0 or more.");
        if (request.Limit is < 0 or > 500) throw RequestValidation.Invalid($"limit {request.Limit} is out of range; expected 0 (default 100) to 500.");
        var page = await (await AlertsAsync(request.Environment)).GetEvents(request.AfterVersion, request.Limit == 0 ? 100 : request.Limit);
        var response = new Proto.GetAlertHistoryResponse { LastVersion = page.LastVersion };
        response.Events.AddRange(page.Events.Select(AlertMapper.ToProto));
        return response;
    }

    public override async Task<Proto.AlertWebhook> SetAlertWebhook(Proto.SetAlertWebhookRequest request, ServerCallContext context)
    {
        var grain = await AlertsAsync(request.Environment);
        if (request.Url.Length > 0 && AlertRuleValidation.HttpUrlProblem(request.Url) is { } problem)
            throw RequestValidation.Invalid("url " + problem.Replace(request.Url, RequestValidation.Shown(request.Url), StringComparison.Ordinal));
        await grain.SetWebhook(request.Url, CallerIdentity.Of(context));
        return new Proto.AlertWebhook { Url = Redacted(await grain.GetWebhook()) };
    }

    public override async Task<Proto.AlertWebhook> GetAlertWebhook(Proto.GetAlertWebhookRequest request, ServerCallContext context) =>
        new() { Url = Redacted(await (await AlertsAsync(request.Environment)).GetWebhook()) };

    /// <summary>A webhook URL may carry a credential (user info, a token in the query): shown without them.</summary>
    private static string Redacted(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.UserInfo.Length > 0 || uri.Query.Length > 0)
            ? new UriBuilder(uri) { UserName = "", Password = "", Query = uri.Query.Length > 0 ? "***" : "" }.Uri.ToString()
            : url;

    /// <summary>The alert grain of a known environment (one with tiers); NOT_FOUND otherwise, so no state is made for a typo.</summary>
    private async Task<IAlertGrain> AlertsAsync(string requested)
    {
        var env = RequestValidation.Environment(requested, _defaultEnvironment);
        if ((await cluster.GetGrain<IFleetGrain>(env).ListTiers()).Count == 0)
            throw RequestValidation.NotFound($"environment '{env}' not found: it has no tiers.");
        return cluster.GetGrain<IAlertGrain>(env);
    }
}
