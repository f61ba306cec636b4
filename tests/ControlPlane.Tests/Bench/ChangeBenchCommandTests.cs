using ControlPlane.Bench;
using Xunit;

namespace ControlPlane.Tests.Bench;

/// <summary>The change benchmarks refuse sizes out of range before they build, start or create anything.</summary>
public sealed class ChangeBenchCommandTests
{
    [Theory]
    [InlineData("rollout-service", "--tenants", "0", "--tenants: expected 1 to 5000, got 0.")]
    [InlineData("rollout-service", "--tenants", "5001", "--tenants: expected 1 to 5000, got 5001.")]
    [InlineData("rollout-service", "--concurrency", "65", "--concurrency: expected 1 to 64, got 65.")]
    [InlineData("index-availability", "--scale", "0", "--scale: expected 1 to 1000, got 0.")]
    [InlineData("index-availability", "--writers", "0", "--writers: expected 1 to 64, got 0.")]
    public async Task An_out_of_range_size_is_refused_as_usage_naming_the_option(string command, string option, string value, string message)
    {
        var work = Path.Combine(Path.GetTempPath(), "cp-bench-args-" + Guid.NewGuid().ToString("N")[..8]);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await BenchApp.RunAsync([command, "--work-dir", work, option, value], stdout, stderr, CancellationToken.None);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(message, stderr.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(work), "the work directory was created although the arguments were refused");
    }
}
