using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Destinations;
using Apertur.Server.Events;
using Apertur.Server.Hosting;
using Apertur.Server.Storage;
using Apertur.Server.Uploads;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>
/// Writes rows the way the upload endpoint and the delivery worker will, straight through <see cref="AperturDb"/>,
/// so polling and delivery status can be tested before those features exist in this branch.
/// </summary>
public static class Seed
{
    /// <summary>A destination row in the default project, with its config JSON as stored.</summary>
    public static async Task<Guid> DestinationAsync(TestApp app, string type, string name, string config = "{}", bool active = true)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var now = Now(app);
        var projectId = await db.Projects.Where(p => p.Name == Startup.DefaultProjectName).Select(p => p.Id).FirstAsync();
        var destination = new Destination { Id = Guid.CreateVersion7(), ProjectId = projectId, Type = type, Name = name, Config = config, IsActive = active, CreatedAt = now, UpdatedAt = now };
        db.Destinations.Add(destination);
        await db.SaveChangesAsync();
        return destination.Id;
    }

    /// <summary>
    /// An accepted image as an upload leaves it: bytes in the store, the next image index, a poll-queue entry when the
    /// session long-polls, one pending delivery per session destination, and the session's count and change time bumped.
    /// </summary>
    public static async Task<Guid> ImageAsync(TestApp app, string sessionId, byte[] bytes, string filename = "photo.jpg",
        string mimeType = "image/jpeg", string source = "camera")
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var store = scope.ServiceProvider.GetRequiredService<IImageStore>();
        var now = Now(app);
        var session = await db.Sessions.Include(s => s.Destinations).FirstAsync(s => s.Id == Guid.Parse(sessionId));
        var image = new Image
        {
            Id = Guid.CreateVersion7(),
            SessionId = session.Id,
            ProjectId = session.ProjectId,
            Env = session.Env,
            ImageIndex = session.ImageCount,
            Filename = filename,
            MimeType = mimeType,
            SizeBytes = bytes.Length,
            Width = 1,
            Height = 1,
            Source = source,
            InPollQueue = session.LongPolling,
            CreatedAt = now,
        };
        var temp = store.NewTempFilePath();
        await File.WriteAllBytesAsync(temp, bytes);
        await store.PutAsync(image.Id, temp, CancellationToken.None);

        // One transaction, as an upload commits it.
        await using var tx = await db.Database.BeginTransactionAsync();
        db.Images.Add(image);
        await db.SaveChangesAsync();
        foreach (var destination in session.Destinations.OrderBy(d => d.Position))
        {
            db.Deliveries.Add(new Delivery
            {
                Id = Guid.CreateVersion7(),
                ImageId = image.Id,
                SessionId = session.Id,
                ProjectId = session.ProjectId,
                DestinationId = destination.DestinationId,
                NextAttemptAt = now,
                CreatedAt = now,
                UpdatedAt = now,
            });
        }
        session.ImageCount++;
        session.LastChangedAt = now;
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return image.Id;
    }

    /// <summary>Records a delivery outcome as the worker would: status, attempts, last error, updated now.</summary>
    public static async Task DeliveryAsync(TestApp app, Guid imageId, Guid destinationId, string status, int attempts, string? lastError)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var now = Now(app);
        var updated = await db.Deliveries.Where(d => d.ImageId == imageId && d.DestinationId == destinationId)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, status).SetProperty(d => d.Attempts, attempts)
                .SetProperty(d => d.LastError, lastError).SetProperty(d => d.UpdatedAt, now));
        if (updated != 1)
        {
            throw new InvalidOperationException($"no delivery for image {imageId} and destination {destinationId}");
        }
    }

    public static void Publish(TestApp app, string sessionId, string name, object payload) =>
        app.Services.GetRequiredService<SessionEventHub>().Publish(Guid.Parse(sessionId), name, payload);

    public static int Subscribers(TestApp app, string sessionId) =>
        app.Services.GetRequiredService<SessionEventHub>().SubscriberCount(Guid.Parse(sessionId));

    private static DateTimeOffset Now(TestApp app) => Iso.Millis(app.Services.GetRequiredService<TimeProvider>().GetUtcNow());
}
