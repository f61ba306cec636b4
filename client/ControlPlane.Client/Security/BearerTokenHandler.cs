using System.Net.Http.Headers;

namespace ControlPlane.Client.Security;

/// <summary>
/// Adds "authorization: Bearer &lt;token&gt;" to every request of the channel, whichever service client sends it, so a
/// client added later cannot forget the token. Works on plaintext loopback channels too (gRPC call credentials don't).
/// </summary>
internal sealed class BearerTokenHandler(string token) : DelegatingHandler
{
    private readonly AuthenticationHeaderValue _header = new("Bearer", token);

    public static HttpMessageHandler Wrap(HttpMessageHandler inner, string? token) =>
        string.IsNullOrWhiteSpace(token) ? inner : new BearerTokenHandler(token.Trim()) { InnerHandler = inner };

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = _header;
        return base.SendAsync(request, cancellationToken);
    }
}
