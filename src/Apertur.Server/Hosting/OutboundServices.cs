using System.Net;
using Apertur.Destinations;
using Apertur.Destinations.AzureBlob;
using Apertur.Destinations.OAuth;
using Apertur.Destinations.Ftp;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.S3;
using Apertur.Destinations.Sftp;
using Apertur.Destinations.WebDav;
using Apertur.Destinations.Webhooks;
using Apertur.Server.CloudDrives;
using Apertur.Server.Deliveries;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Hosting;

/// <summary>Settings section <c>Apertur:Outbound</c>: what outbound connections may reach.</summary>
public sealed class OutboundOptions : ISettings
{
    public const string Section = "Apertur:Outbound";

    /// <summary>Networks (CIDR or single addresses) the SSRF guard lets through although private, e.g. <c>10.0.0.0/8</c>.</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>Each entry the way <see cref="OutboundGuard"/> reads it: a CIDR network or a single address; blank entries are skipped.</summary>
    public IReadOnlyList<string> Problems() => AllowedNetworks
        .Select((text, index) => (Text: text?.Trim() ?? "", Index: index))
        .Where(e => e.Text.Length > 0 && !IPNetwork.TryParse(e.Text, out _) && !IPAddress.TryParse(e.Text, out _))
        .Select(e => $"{Section}:{nameof(AllowedNetworks)}:{e.Index} must be a CIDR network such as 10.0.0.0/8 or an IP address (got '{e.Text}').")
        .ToList();
}

/// <summary>Wires every outbound connection through the SSRF guard and registers the destination adapters by kind.</summary>
public static class OutboundServices
{
    /// <summary>The named HttpClient every outbound HTTP call uses: guarded connect, no redirects, no cookies.</summary>
    public const string HttpClientName = "outbound";

    public static IServiceCollection AddOutbound(this IServiceCollection services, IConfiguration configuration)
    {
        // Read now, checked like every setting (SettingsValidation): the guard is built here, once, for every outbound client.
        var options = configuration.ReadSettings<OutboundOptions>(OutboundOptions.Section);
        var guard = new OutboundGuard(options.AllowedNetworks);
        services.AddSingleton(guard);
        // Per-attempt timeouts belong to the callers (30 s for webhooks); this only bounds a stuck call. The callers log each
        // outcome in one line: the factory's request logging would add two stack traces per refused connection (and URLs).
        services.AddHttpClient(HttpClientName, c => c.Timeout = TimeSpan.FromMinutes(10))
            .ConfigurePrimaryHttpMessageHandler(() => guard.CreateHandler())
            .RemoveAllLoggers();

        services.AddDestination(sp => new WebhookDestination(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.AttemptTimeout));
        // The SDK builds its HTTP clients itself: the adapter hands it clients over a handler of this guard.
        services.AddDestination(sp => new S3Destination(guard, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.AttemptTimeout));
        services.AddDestination(sp => new AzureBlobDestination(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.AttemptTimeout));
        // File servers: sftp through SSH.NET and ftp through libcurl (both connect to the guard's checked address), webdav through the guarded client.
        services.AddDestination(sp => new SftpDestination(guard, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.AttemptTimeout));
        services.AddDestination(sp => new FtpDestination(guard, sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.AttemptTimeout));
        services.AddDestination(sp => new WebDavDestination(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.AttemptTimeout));
        // Google Drive, Dropbox and OneDrive, connected with OAuth (CloudDrives/).
        services.AddCloudDrives(HttpClientName);
        services.AddSingleton<DestinationRegistry>();
        return services;
    }

    /// <summary>
    /// Registers a destination kind: the adapter (a singleton made by <paramref name="create"/>) and its
    /// <see cref="IDescribedDestination.Descriptor"/>, which the API, secret handling, dashboard forms and e-mails read from
    /// <see cref="DestinationKindRegistry"/>. Throws here, at start-up, when the descriptor is incomplete (no form, secret
    /// flags that differ from its secret fields) or claims a type string another kind has.
    /// </summary>
    public static IServiceCollection AddDestination<T>(this IServiceCollection services, Func<IServiceProvider, T> create)
        where T : class, IDestination, IDescribedDestination
    {
        ArgumentNullException.ThrowIfNull(services);
        var descriptor = T.Descriptor;
        var registered = services.Where(s => s.ServiceType == typeof(DestinationDescriptor))
            .Select(s => s.ImplementationInstance).OfType<DestinationDescriptor>().Append(descriptor);
        // Checks this descriptor and that no two claim one type string, as the registry will.
        _ = new DestinationKindRegistry(registered);
        if (descriptor.ConnectionTest != typeof(IConnectionTestable).IsAssignableFrom(typeof(T))
            || descriptor.OAuth != typeof(IOAuthDestination).IsAssignableFrom(typeof(T)))
        {
            throw new InvalidOperationException(
                $"Destination kind '{descriptor.Kind}': its ConnectionTest and OAuth flags must say what {typeof(T).Name} implements.");
        }
        services.AddSingleton(descriptor);
        services.AddSingleton<IDestination>(create);
        services.TryAddSingleton(sp => new DestinationKindRegistry(sp.GetServices<DestinationDescriptor>()));
        return services;
    }
}

/// <summary>The destination adapters by kind (what each kind is: <see cref="DestinationKindRegistry"/>).</summary>
public sealed class DestinationRegistry(IEnumerable<IDestination> adapters)
{
    private readonly Dictionary<string, IDestination> _byKind = adapters.ToDictionary(a => a.Kind, StringComparer.Ordinal);

    /// <summary>The adapter for a kind, or null when no adapter for it is installed yet.</summary>
    public IDestination? Find(string kind) => _byKind.GetValueOrDefault(kind);

    public IReadOnlyCollection<string> Kinds => _byKind.Keys;
}
