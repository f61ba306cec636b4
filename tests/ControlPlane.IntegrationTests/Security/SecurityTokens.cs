using System.Collections.Concurrent;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace ControlPlane.IntegrationTests.Security;

/// <summary>Creates tokens through the real API with the fixture's admin token, and remembers every one for the log grep.</summary>
internal static class SecurityTokens
{
    /// <summary>Every token any security test created: none of them may ever show up in a log line.</summary>
    public static ConcurrentBag<string> Issued { get; } = [];

    public static SecurityService.SecurityServiceClient Admin(SiloFixture fixture) => new(fixture.Invoker(fixture.AdminToken));

    public static async Task<CreateTokenResponse> CreateAsync(
        SiloFixture fixture, string name, Role role, string[]? tenants = null, TimeSpan? expiresIn = null)
    {
        var request = new CreateTokenRequest { Name = name, Role = role };
        request.Tenants.AddRange(tenants ?? []);
        if (expiresIn is { } e) request.ExpiresIn = Duration.FromTimeSpan(e);
        var response = await Admin(fixture).CreateTokenAsync(request);
        Issued.Add(response.Token);
        return response;
    }
}
