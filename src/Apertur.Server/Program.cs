using Apertur.Server;
using Apertur.Server.Dashboard;
using Apertur.Server.CloudDrives;
using Apertur.Server.Data;
using Apertur.Server.Delivery;
using Apertur.Server.Destinations;
using Apertur.Server.Encryption;
using Apertur.Server.Events;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Apertur.Server.Home;
using Apertur.Server.Keys;
using Apertur.Server.Polling;
using Apertur.Server.Projects;
using Apertur.Server.Qr;
using Apertur.Server.Sessions;
using Apertur.Server.Stats;
using Apertur.Server.Storage;
using Apertur.Server.UploadPage;
using Apertur.Server.Uploads;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

// `--help` prints the commands and the most used settings instead of starting.
if (CommandLine.WantsHelp(args))
{
    Console.WriteLine(CommandLine.Help(CommandLine.Self(Environment.CurrentDirectory, "").TrimEnd()));
    return 0;
}

var builder = WebApplication.CreateBuilder(CommandLine.BuilderOptions(args));
// `--lan`: every interface, with this machine's network address in upload links and QR codes (docs/deploy.md).
CommandLine.ApplyLan(args, builder.Configuration);

// The data directory is the server's alone (0700, files 0600, umask 077 on Unix), before anything is written in it.
DataDirectory.Secure(AperturOptions.ResolveDataDirectory(builder.Configuration));

// Settings: one options class per section, validated at start-up.
builder.Services.AddOptions<AperturOptions>().BindConfiguration(AperturOptions.Section);
builder.Services.AddOptions<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section);
builder.Services.AddOptions<UploadSessionOptions>().BindConfiguration(UploadSessionOptions.Section).ValidateOnStart();
builder.Services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section).ValidateOnStart();
builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section);
builder.Services.AddOptions<PollingOptions>().BindConfiguration(PollingOptions.Section)
    .Validate(PollingOptions.IsValid, "Apertur:Polling: DeliveryStatusHold must not be negative and DeliveryStatusRecheck must be positive.").ValidateOnStart();
builder.Services.AddOptions<EventsOptions>().BindConfiguration(EventsOptions.Section)
    .Validate(EventsOptions.IsValid, "Apertur:Events:HeartbeatInterval must be positive.").ValidateOnStart();

// Time is a dependency.
builder.Services.AddSingleton(TimeProvider.System);

// Persistence: SQLite by default, PostgreSQL by setting; schema from versioned SQL scripts.
builder.Services.AddAperturData(builder.Configuration);

// Secrets at rest: Data Protection with its key ring in the database, shared by every replica.
builder.Services.AddDataProtection().SetApplicationName("Apertur");
builder.Services.AddSingleton<DbXmlRepository>();
builder.Services.AddOptions<KeyManagementOptions>()
    .Configure<DbXmlRepository>((o, repository) => o.XmlRepository = repository);
// The key ring itself is encrypted under the master key (Hosting/SecretsAtRest.cs): a database copy alone reveals no secret.
builder.Services.AddSecretsAtRest();
// Destination credentials: protected in the stored config, revealed for adapters, masked in answers.
builder.Services.AddSingleton<DestinationConfigs>();
// Image webhook signing: the project's secrets (revealed from their encrypted columns) and the 24 h overlap after a rotation.
builder.Services.AddSingleton<ProjectSigningProvider>();

// Outbound: every connection passes the SSRF guard; destination adapters registered by kind.
builder.Services.AddOutbound(builder.Configuration);

// Behind a reverse proxy: client address, scheme and host from X-Forwarded-* of trusted proxies only (docs/deploy.md).
builder.Services.AddReverseProxy();

// Errors: one JSON error shape for every failure.
builder.Services.AddExceptionHandler<ApiErrorHandler>();
builder.Services.AddProblemDetails();

// API pieces.
builder.Services.AddSingleton<PublicUrls>();
builder.Services.AddSingleton<RateLimiter>();
builder.Services.AddScoped<ApiKeyAuth>();
builder.Services.AddScoped<KeyIssuer>();
builder.Services.AddSingleton<ServerKeys>();
builder.Services.AddSingleton<SessionEventHub>();
builder.Services.AddScoped<DeliveryStatusReader>();
// Logic the API and the dashboard share: session creation, destination changes and tests, usage counts.
builder.Services.AddScoped<SessionCreator>();
builder.Services.AddScoped<DestinationService>();
builder.Services.AddScoped<UsageStats>();

// Image bytes: a local directory by default, behind IImageStore.
builder.Services.AddImageStorage(builder.Configuration);

// Uploads: stream to a temp file, check the bytes, commit image + deliveries in one transaction.
builder.Services.AddUploads();

// The operators' dashboard: Razor Pages under /dashboard with their own cookie sign-in, separate from the API's keys.
builder.Services.AddDashboard(builder.Configuration);
// The upload page people open from the QR code: a Razor Page with its script and styles served from the assembly.
builder.Services.AddUploadPage();

// Delivery: the worker drains the outbox through the adapters, retries on schedule, emails final failures.
builder.Services.AddDelivery();

// Event webhooks: the outbox writer (event + delivery rows in the caller's transaction), the signed sender, settings.
builder.Services.AddEventWebhooks();
// Event webhook delivery: leased claims of due rows, per-webhook retries, auto-disable after repeated failures.
builder.Services.AddHostedService<EventDeliveryWorker>();
// Announces each session past its expiry once (project.session.expired).
builder.Services.AddHostedService<SessionExpirySweep>();

// `keys create` prints only the key on standard output: its logs (a master key generated on a first use) go to standard error.
if (KeysCommand.Matches(args))
{
    builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
}

var app = builder.Build();

// `keys create …` prints a key and exits without serving.
if (KeysCommand.Matches(args))
{
    return await KeysCommand.RunAsync(args, app.Services);
}

// Migrate and seed before listening: /healthz answering means the database is ready. A database that cannot be used
// stops the start with one line on standard error and exit code 1.
if (!await Startup.TryPrepareAsync(app.Services, app.Lifetime.ApplicationStopping))
{
    return 1;
}

// Listening on every interface: print the address a phone on this network opens.
CommandLine.AnnounceNetworkAddress(app);

app.UseReverseProxy();
app.UseExceptionHandler();
app.UseStatusCodePages(ApiErrorHandler.WriteStatusCodeBodyAsync);

// The server's address opened in a browser: where the dashboard, health check and docs are.
app.MapHomePage();
app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" }));
app.MapSessionsApi();
// QR codes of a session's upload page, PNG or SVG, public by session UUID.
app.MapQrApi();
// Pull delivery for long-polling sessions: list queued images, download, acknowledge.
app.MapPollingApi();
// Delivery status per file and destination; `pollFrom` long-polls until something changes.
app.MapDeliveryStatusApi();
// Live session events over SSE, public by session UUID.
app.MapEventsApi();
// Public image upload (plain and encrypted), uploads history and download.
app.MapUploadsApi();
// The server's public key for client-side encrypted uploads.
app.MapEncryptionApi();
// The key's project: name, notification e-mail, webhook secret and its rotation.
app.MapProjectApi();
// Destinations of the project: CRUD with secrets encrypted at rest and masked, plus the connection test.
app.MapDestinationsApi();
// Cloud drive destinations: connect an account with OAuth (start, provider callback, status, disconnect).
app.MapOAuthApi();
// API keys of the project, and a key's default destinations.
app.MapKeysApi();
// Usage counts of the project, live data only.
app.MapStatsApi();
// Image deliveries: list, attempt log, manual retry.
app.MapDeliveriesApi();
// Signed, expiring image links for receivers (event_json download_url), public by signature.
app.MapDownloadLinksApi();
// Event webhooks of a project: subscriptions, test send, deliveries log and manual retry.
app.MapEventWebhooksApi();
// The hosted upload page /u/{uuid} (README, "The upload page") and its assets.
app.MapUploadPage();

// The dashboard's pages, assets and image thumbnails.
app.MapDashboard();
// Every Razor Page, once: the upload page (UploadPage/) and the dashboard (Dashboard/), each with an absolute @page route.
app.MapRazorPages();

await app.RunAsync();
return 0;

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
