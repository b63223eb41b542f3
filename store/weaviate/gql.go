//go:build !386 && !arm && !mips && !mipsle

package weaviate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate/entities/models"
)

// chunk is how many objects one request names or writes.
const chunk = 100

// maxResults is Weaviate's default QUERY_MAXIMUM_RESULTS: no query may
// reach past this many results.
const maxResults = 10000

// additional holds the _additional fields this package asks for.
type additional struct {
	ID       string    `json:"id"`
	Distance *float64  `json:"distance"`
	Vector   []float32 `json:"vector"`
}

// imageObj is an image object's properties as this package reads them.
type imageObj struct {
	Hash      string     `json:"hash"`
	Size      int64      `json:"size"`
	Format    string     `json:"format"`
	Width     int        `json:"width"`
	Height    int        `json:"height"`
	HasTaken  bool       `json:"hasTaken"`
	Taken     int64      `json:"taken"`
	Camera    string     `json:"camera"`
	HasGPS    bool       `json:"hasGPS"`
	Lat       float64    `json:"lat"`
	Lon       float64    `json:"lon"`
	Model     string     `json:"model"`
	Added     int64      `json:"added"`
	Thumbnail string     `json:"thumbnail"`
	Add       additional `json:"_additional"`
}

const imageFields = `hash size format width height hasTaken taken camera hasGPS lat lon model added _additional { id }`

// pathObj is a path object's properties.
type pathObj struct {
	Path    string     `json:"path"`
	PathRaw string     `json:"pathRaw"`
	Image   string     `json:"image"`
	Size    int64      `json:"size"`
	MTime   string     `json:"mtime"`
	Add     additional `json:"_additional"`
}

const pathFields = `path pathRaw image size mtime _additional { id }`

// name returns the object's path: pathRaw holds the bytes of a path that
// is not valid UTF-8 (text properties must be).
func (p pathObj) name() (string, error) {
	if p.PathRaw == "" {
		return p.Path, nil
	}
	b, err := base64.StdEncoding.DecodeString(p.PathRaw)
	if err != nil {
		return "", fmt.Errorf("weaviate: path object %s: bad pathRaw: %w", p.Add.ID, err)
	}
	return string(b), nil
}

func pathProps(path string, image string, size, mtime int64) map[string]any {
	m := map[string]any{"image": image, "size": size, "mtime": strconv.FormatInt(mtime, 10)}
	if utf8.ValidString(path) {
		m["path"] = path
	} else {
		m["path"] = strings.ToValidUTF8(path, "\uFFFD")
		m["pathRaw"] = base64.StdEncoding.EncodeToString([]byte(path))
	}
	return m
}

// quote returns s as a GraphQL string literal (JSON's syntax is valid
// GraphQL).
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// GraphQL where operands.
func whereAny(path string, values []string) string {
	return fmt.Sprintf(`{path:[%s], operator:ContainsAny, valueText:%s}`, quote(path), quoteAll(values))
}

func whereInt(path, op string, v int64) string {
	return fmt.Sprintf(`{path:[%s], operator:%s, valueInt:%d}`, quote(path), op, v)
}

func whereBool(path string, v bool) string {
	return fmt.Sprintf(`{path:[%s], operator:Equal, valueBoolean:%t}`, quote(path), v)
}

func whereOp(op string, operands []string) string {
	if len(operands) == 1 {
		return operands[0]
	}
	return fmt.Sprintf(`{operator:%s, operands:[%s]}`, op, strings.Join(operands, ","))
}

// query runs a GraphQL query and decodes data[section][class] into out.
func (s *Store) query(ctx context.Context, what, section, class, q string, out any) error {
	return s.do(ctx, what, func(c *wv.Client) error {
		resp, err := c.GraphQL().Raw().WithQuery(q).Do(ctx)
		if err != nil {
			return err
		}
		if len(resp.Errors) > 0 {
			ge := &gqlError{}
			for _, e := range resp.Errors {
				if e != nil {
					ge.msgs = append(ge.msgs, e.Message)
				}
			}
			return ge
		}
		sec, ok := resp.Data[section]
		if !ok {
			return &gqlError{msgs: []string{"response has no " + section}}
		}
		m, ok := sec.(map[string]any)
		if !ok {
			return &gqlError{msgs: []string{fmt.Sprintf("response's %s is not an object", section)}}
		}
		v, ok := m[class]
		if !ok {
			return &gqlError{msgs: []string{"response has no " + class}}
		}
		if v == nil {
			return nil
		}
		raw, err := json.Marshal(v) // the client decoded the body generically
		if err != nil {
			return fmt.Errorf("re-encode response: %w", err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("decode %s response: %w", class, err)
		}
		return nil
	})
}

// get runs a lookup, a Get query on class with arguments args; in a
// replicated collection it reads at Options.ReadConsistency.
func (s *Store) get(ctx context.Context, what, class, args, fields string, out any) error {
	if s.opts.Replication > 1 {
		args = strings.TrimPrefix(args+", consistencyLevel:"+s.read, ", ")
	}
	return s.getQuery(ctx, what, class, args, fields, out)
}

// getQuery runs a Get query on class with arguments args as they are: for
// vector searches, which take no consistency level.
func (s *Store) getQuery(ctx context.Context, what, class, args, fields string, out any) error {
	if args != "" {
		args = "(" + args + ")"
	}
	q := fmt.Sprintf("{ Get { %s%s { %s } } }", class, args, fields)
	return s.query(ctx, what, "Get", class, q, out)
}

// imagesByUUID returns the image objects among uuids that exist.
func (s *Store) imagesByUUID(ctx context.Context, uuids []string, fields string) (map[string]imageObj, error) {
	out := map[string]imageObj{}
	for i := 0; i < len(uuids); i += chunk {
		part := uuids[i:min(i+chunk, len(uuids))]
		var objs []imageObj
		args := fmt.Sprintf("where:%s, limit:%d", whereAny("id", part), len(part))
		if err := s.get(ctx, "read images", s.images, args, fields, &objs); err != nil {
			return nil, err
		}
		for _, o := range objs {
			out[strings.ToLower(o.Add.ID)] = o
		}
	}
	return out, nil
}

// pathsByUUID returns the path objects among uuids that exist.
func (s *Store) pathsByUUID(ctx context.Context, uuids []string) (map[string]pathObj, error) {
	out := map[string]pathObj{}
	for i := 0; i < len(uuids); i += chunk {
		part := uuids[i:min(i+chunk, len(uuids))]
		var objs []pathObj
		args := fmt.Sprintf("where:%s, limit:%d", whereAny("id", part), len(part))
		if err := s.get(ctx, "read paths", s.paths, args, pathFields, &objs); err != nil {
			return nil, err
		}
		for _, o := range objs {
			out[strings.ToLower(o.Add.ID)] = o
		}
	}
	return out, nil
}

// pathsOf returns the path objects of the images with the given UUIDs.
func (s *Store) pathsOf(ctx context.Context, imageUUIDs []string) ([]pathObj, error) {
	var all []pathObj
	for i := 0; i < len(imageUUIDs); i += chunk {
		part := imageUUIDs[i:min(i+chunk, len(imageUUIDs))]
		var objs []pathObj
		args := fmt.Sprintf("where:%s, limit:%d", whereAny("image", part), maxResults)
		if err := s.get(ctx, "read paths of images", s.paths, args, pathFields, &objs); err != nil {
			return nil, err
		}
		if len(objs) >= maxResults {
			return nil, fmt.Errorf("weaviate: more than %d paths for %d images", maxResults, len(part))
		}
		all = append(all, objs...)
	}
	return all, nil
}

// put writes objects (an upsert: an object replaces any with its UUID).
func (s *Store) put(ctx context.Context, what string, objs []*models.Object) error {
	for i := 0; i < len(objs); i += chunk {
		part := objs[i:min(i+chunk, len(objs))]
		err := s.do(ctx, what, func(c *wv.Client) error {
			res, err := c.Batch().ObjectsBatcher().WithObjects(part...).WithConsistencyLevel(s.write).Do(ctx)
			if err != nil {
				return err
			}
			be := &batchError{}
			for _, r := range res {
				if r.Result != nil && r.Result.Errors != nil {
					for _, e := range r.Result.Errors.Error {
						if e != nil {
							be.msgs = append(be.msgs, fmt.Sprintf("%s: %s", r.ID, e.Message))
						}
					}
				}
			}
			if len(be.msgs) > 0 {
				return be
			}
			if len(res) != len(part) {
				return &batchError{msgs: []string{fmt.Sprintf("%d results for %d objects", len(res), len(part))}}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteIDs deletes the objects of class with the given UUIDs (those that
// do not exist are ignored).
func (s *Store) deleteIDs(ctx context.Context, what, class string, uuids []string) error {
	for i := 0; i < len(uuids); i += chunk {
		part := uuids[i:min(i+chunk, len(uuids))]
		where := filters.Where().WithPath([]string{"id"}).WithOperator(filters.ContainsAny).WithValueText(part...)
		err := s.do(ctx, what, func(c *wv.Client) error {
			res, err := c.Batch().ObjectsBatchDeleter().WithClassName(class).WithWhere(where).
				WithConsistencyLevel(s.write).WithOutput("minimal").Do(ctx)
			if err != nil {
				return err
			}
			if res != nil && res.Results != nil && res.Results.Failed > 0 {
				return &batchError{msgs: []string{fmt.Sprintf("%d of %d deletions failed", res.Results.Failed, res.Results.Matches)}}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
