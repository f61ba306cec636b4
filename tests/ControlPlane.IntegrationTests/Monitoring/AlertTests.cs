using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xunit;

namespace ControlPlane.IntegrationTests.Monitoring;

/// <summary>Alerts end to end: a real condition on the primary fires a rule, its removal resolves it, and the
/// webhook receiver, the watch stream and the history all see both.</summary>
[Collection(MonitoringCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class AlertTests(MonitoringSiloFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task An_alert_fires_after_its_for_window_and_resolves_when_the_cause_is_gone_and_the_webhook_sees_both()
    {
        using var receiver = new WebhookReceiver();
        await fixture.Alerts.SetAlertWebhookAsync(new SetAlertWebhookRequest { Url = receiver.Url });
        var rule = new AlertRule
        {
            Name = "TestIdleInTransaction",
            Expression = "longest_idle_in_transaction_seconds > 2",
            For = Duration.FromTimeSpan(TimeSpan.FromSeconds(3)),
            Severity = "critical",
            Summary = "a session idles in a transaction",
            Enabled = true,
        };
        rule.Labels.Add("suite", "monitoring");
        await fixture.Alerts.PutAlertRuleAsync(new PutAlertRuleRequest { Rule = rule });

        using var watch = fixture.Alerts.WatchAlerts(new WatchAlertsRequest());
        var streamed = new ConcurrentQueue<AlertEvent>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in watch.ResponseStream.ReadAllAsync(stop.Token)) streamed.Enqueue(e);
            }
            catch (Exception ex) when (ex is OperationCanceledException || ex is RpcException { StatusCode: StatusCode.Cancelled })
            {
            }
        });

        await using (var idle = await fixture.OpenPrimaryAsync("mon-idle"))
        {
            await MonitoringSiloFixture.ExecuteAsync(idle, "BEGIN; SELECT 1");
            var fired = await WaitAsync(() => streamed.FirstOrDefault(e => IsOurs(e) && e.Phase == "firing" && !e.Snapshot));
            Assert.True(fired.At.ToDateTimeOffset() - fired.StartedAt.ToDateTimeOffset() >= TimeSpan.FromSeconds(3));
            Assert.Equal("critical", fired.Severity);
            Assert.Equal("monitoring", fired.Labels["suite"]);
            var active = await fixture.Alerts.ListAlertsAsync(new ListAlertsRequest());
            Assert.Contains(active.Alerts, a => a.Rule == rule.Name && a.State == "firing" && a.Labels["replica"] == MonitoringSiloFixture.Primary);
        }
        var resolved = await WaitAsync(() => streamed.FirstOrDefault(e => IsOurs(e) && e.Phase == "resolved"));

        var posted = await WaitAsync(() => receiver.Alerts.Any(a => a.Status == "resolved" && a.AlertName == rule.Name) ? receiver.Alerts.ToList() : null);
        Assert.Contains(posted, a => a.Status == "firing" && a.AlertName == rule.Name && a.Replica == MonitoringSiloFixture.Primary);
        Assert.Contains(posted, a => a.Status == "resolved" && a.AlertName == rule.Name && a.Replica == MonitoringSiloFixture.Primary);

        var history = await fixture.Alerts.GetAlertHistoryAsync(new GetAlertHistoryRequest { Limit = 500 });
        var ours = history.Events.Where(IsOurs).Select(e => e.Phase).ToList();
        Assert.Equal(["firing", "resolved"], ours.TakeLast(2));
        Assert.True(resolved.Version > 0);

        await stop.CancelAsync();
        await reader;
        await fixture.Alerts.DeleteAlertRuleAsync(new DeleteAlertRuleRequest { Name = rule.Name });
        await fixture.Alerts.SetAlertWebhookAsync(new SetAlertWebhookRequest { Url = "" });

        bool IsOurs(AlertEvent e) => e.Rule == rule.Name && e.Labels.TryGetValue("replica", out var r) && r == MonitoringSiloFixture.Primary;
    }

    [Fact]
    public async Task A_rule_on_an_unknown_metric_is_refused_and_not_stored()
    {
        var rule = new AlertRule { Name = "Typo", Expression = "blocked_sesions > 0", Enabled = true };
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Alerts.PutAlertRuleAsync(new PutAlertRuleRequest { Rule = rule }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("metric 'blocked_sesions' is unknown", error.Status.Detail, StringComparison.Ordinal);
        var rules = await fixture.Alerts.ListAlertRulesAsync(new ListAlertRulesRequest());
        Assert.DoesNotContain(rules.Rules, r => r.Name == "Typo");
    }

    [Fact]
    public async Task A_malformed_expression_is_refused_naming_it()
    {
        var rule = new AlertRule { Name = "Broken", Expression = "blocked_sessions >> 0", Enabled = true };
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Alerts.PutAlertRuleAsync(new PutAlertRuleRequest { Rule = rule }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("expression 'blocked_sessions >> 0' is malformed", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silence_without_an_end_is_refused_and_not_stored()
    {
        var request = new CreateSilenceRequest { Comment = "forever" };
        request.Matchers.Add("alertname", "BlockedSessions");
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Alerts.CreateSilenceAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("a silence must end", error.Status.Detail, StringComparison.Ordinal);
        var silences = await fixture.Alerts.ListSilencesAsync(new ListSilencesRequest());
        Assert.DoesNotContain(silences.Silences, s => s.Comment == "forever");
    }

    [Fact]
    public async Task A_webhook_url_that_is_not_http_is_refused_and_the_webhook_unchanged()
    {
        var before = await fixture.Alerts.GetAlertWebhookAsync(new GetAlertWebhookRequest());
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Alerts.SetAlertWebhookAsync(new SetAlertWebhookRequest { Url = "ftp://127.0.0.1/hook" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("scheme 'ftp'", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before.Url, (await fixture.Alerts.GetAlertWebhookAsync(new GetAlertWebhookRequest())).Url);
    }

    [Fact]
    public async Task A_silence_with_a_duration_is_listed_active_and_can_be_expired()
    {
        var request = new CreateSilenceRequest { Comment = "maintenance", Duration = Duration.FromTimeSpan(TimeSpan.FromHours(1)) };
        request.Matchers.Add("tier", "oltp");
        var silence = await fixture.Alerts.CreateSilenceAsync(request);
        Assert.True(silence.Active);
        var expired = await fixture.Alerts.ExpireSilenceAsync(new ExpireSilenceRequest { Id = silence.Id });
        Assert.False(expired.Active);
    }

    private static async Task<T> WaitAsync<T>(Func<T?> probe) where T : class
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } found) return found;
            await Task.Delay(250);
        }
        throw new TimeoutException("the expected alert did not arrive in time");
    }

    /// <summary>An Alertmanager-style receiver on a loopback port: records every alert of every POST.</summary>
    private sealed class WebhookReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public WebhookReceiver()
        {
            Url = $"http://127.0.0.1:{TestPorts.Reserve()}/alerts/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public string Url { get; }
        public ConcurrentQueue<(string Status, string AlertName, string Replica)> Alerts { get; } = new();

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using (var body = new StreamReader(context.Request.InputStream))
                {
                    using var json = JsonDocument.Parse(await body.ReadToEndAsync());
                    foreach (var alert in json.RootElement.GetProperty("alerts").EnumerateArray())
                    {
                        var labels = alert.GetProperty("labels");
                        Alerts.Enqueue((alert.GetProperty("status").GetString()!, labels.GetProperty("alertname").GetString()!,
                            labels.TryGetProperty("replica", out var r) ? r.GetString()! : ""));
                    }
                }
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
