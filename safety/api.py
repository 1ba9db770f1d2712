from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets

from safety.models import CtcaeTerm


class CtcaeTermSerializer(serializers.ModelSerializer):
    grades = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = CtcaeTerm
        fields = ["id", "meddra_code", "soc", "term", "grades", "definition"]


@extend_schema(parameters=[OpenApiParameter("q", str, description="Term, SOC or MedDRA code")])
class CtcaeTermViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The CTCAE v5.0 catalog shipped with the product, searched as one types."""

    serializer_class = CtcaeTermSerializer

    def get_queryset(self):
        terms = CtcaeTerm.objects.all()
        q = self.request.query_params.get("q", "").strip()
        if q:
            match = Q(term__icontains=q) | Q(soc__icontains=q)
            if q.isdigit():
                match |= Q(meddra_code=int(q))
            terms = terms.filter(match)
        return terms
