using System.Text.Json;
using Apertur.Destinations;
using Apertur.Server.Data;
using Apertur.Server.Projects;
using Apertur.Server.Queues;
using Apertur.Server.Sessions;
using Apertur.Server.Storage;
using Apertur.Server.Uploads;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Deliveries;

/// <summary>One claimed delivery with everything needed to attempt it. <see cref="Destination"/> is null when it was deleted.</summary>
public sealed record DeliveryWork(Delivery Delivery, Image Image, Session Session, Project Project, Destinations.Destination? Destination)
{
    /// <summary>Loads a claim's deliveries with their image, session, project and destination in one query.</summary>
    public static async Task<List<DeliveryWork>> LoadAsync(AperturDb db, LeaseClaim claim, CancellationToken ct)
    {
        var ids = claim.Ids.ToList();
        var token = claim.LeaseToken;
        var rows = await (
            from d in db.Deliveries.AsNoTracking()
            where ids.Contains(d.Id) && d.LeaseToken == token
            join i in db.Images.AsNoTracking() on d.ImageId equals i.Id
            join s in db.Sessions.AsNoTracking() on d.SessionId equals s.Id
            join p in db.Projects.AsNoTracking() on s.ProjectId equals p.Id
            join dest in db.Destinations.AsNoTracking() on d.DestinationId equals dest.Id into found
            from dest in found.DefaultIfEmpty()
            select new { d, i, s, p, dest })
            .ToListAsync(ct);
        return rows.Select(r => new DeliveryWork(r.d, r.i, r.s, r.p, r.dest)).ToList();
    }

    /// <summary>The request the adapter gets: bytes streamed from the store on demand, session tags and metadata, a signed download link.</summary>
    public DeliveryRequest ToRequest(Destinations.Destination destination, JsonElement revealedConfig, ProjectSigning signing, IImageStore store,
        Uri? downloadUrl)
    {
        var imageId = Image.Id;
        var image = new DeliveryImage(
            Id: imageId,
            SessionId: Session.Id,
            Index: Image.ImageIndex,
            Filename: Image.Filename,
            MimeType: Image.MimeType,
            SizeBytes: Image.SizeBytes,
            Tags: Session.Tags,
            MetadataJson: Session.Metadata,
            Label: Session.Label,
            CreatedAt: Image.CreatedAt,
            OpenReadAsync: async ct => await store.OpenReadAsync(imageId, ct)
                ?? throw new FileNotFoundException($"The stored bytes of image {imageId} are missing."),
            DownloadUrl: downloadUrl);
        var target = new DestinationTarget(destination.Id, destination.Type, destination.Name, revealedConfig);
        return new DeliveryRequest(Delivery.Id, Delivery.Attempts + 1, image, target, signing);
    }
}
