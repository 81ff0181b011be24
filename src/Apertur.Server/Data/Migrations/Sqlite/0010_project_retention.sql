-- A project's own retention of image bytes (docs/operations.md "Retention"), shorter than the server's: minutes after an image
-- is done with, and minutes after its upload at most (SQLite). NULL means "the server's setting"; the sweep never keeps longer
-- than the server's value.
ALTER TABLE projects ADD COLUMN images_after_delivery_minutes INTEGER NULL;
ALTER TABLE projects ADD COLUMN max_image_age_minutes INTEGER NULL;
