using ControlPlane.Grains.Monitoring;
using Xunit;

namespace ControlPlane.Tests.Monitoring;

public sealed class AlertRuleValidationTests
{
    [Fact]
    public void Every_default_rule_is_valid() =>
        Assert.All(DefaultAlertRules.All, r => Assert.Empty(AlertRuleValidation.Validate(r)));

    [Fact]
    public void A_rule_on_an_unknown_metric_is_refused_naming_the_metric()
    {
        var errors = AlertRuleValidation.Validate(AlertPolicyTests.Blocked with { Metric = "blocked_sesions" });
        Assert.Contains(errors, e => e.Contains("metric 'blocked_sesions' is unknown", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("blocked_sessions >")]
    [InlineData("> 3")]
    [InlineData("blocked_sessions => 3")]
    [InlineData("blocked_sessions > three")]
    public void A_malformed_expression_does_not_parse(string expression)
    {
        Assert.Null(AlertRuleValidation.ParseExpression(expression, out var problem));
        Assert.Contains(expression.Trim(), problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_expression_parses_into_metric_comparison_and_threshold()
    {
        var parsed = AlertRuleValidation.ParseExpression("cache_hit_ratio <= 0.9", out _);
        Assert.Equal((MonitoringMetrics.CacheHitRatio, AlertComparison.AtMost, 0.9), parsed);
    }

    [Fact]
    public void A_silence_without_an_end_is_refused()
    {
        var silence = new AlertSilence("s", new Dictionary<string, string> { ["alertname"] = "Blocked" }, AlertPolicyTests.T0, default, "", "t");
        Assert.Contains("ends is required; a silence must end.", AlertRuleValidation.Validate(silence, AlertPolicyTests.T0));
    }

    [Theory]
    [InlineData("ftp://example.com/hook")]
    [InlineData("not a url")]
    [InlineData("file:///etc/passwd")]
    public void A_webhook_url_that_is_not_http_is_refused(string url) => Assert.NotNull(AlertRuleValidation.HttpUrlProblem(url));

    [Fact]
    public void An_http_webhook_url_is_accepted() => Assert.Null(AlertRuleValidation.HttpUrlProblem("http://127.0.0.1:9093/api/v2/alerts"));
}
